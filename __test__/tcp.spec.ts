/**
 * TcpListener and TcpStream: each API item, error codes, half-close, close semantics and
 * iteration. Everything runs on loopback against servers the test starts itself.
 */

import test from 'ava';
import * as os from 'node:os';
import { AbortError, runtime, TcpListener, TcpStream } from '../src';
import { codeOf, listen, pair, pattern, readAll, readExactly } from './fixtures/tcp-util';

const hasIPv6Loopback = Object.values(os.networkInterfaces()).some((list) =>
  (list ?? []).some((i) => i.family === 'IPv6' && i.address === '::1'),
);

test('bind: "host:port" string with port 0 reports the real port', async (t) => {
  const listener = await TcpListener.bind('127.0.0.1:0');
  const addr = listener.localAddr;
  t.is(addr.address, '127.0.0.1');
  t.is(addr.family, 'IPv4');
  t.true(addr.port > 0 && addr.port <= 65535);
  t.is(listener.localAddr, addr, 'the address is cached');
  listener.close();
});

test('bind: object address defaults host to 127.0.0.1', async (t) => {
  const listener = await TcpListener.bind({ port: 0 });
  t.is(listener.localAddr.address, '127.0.0.1');
  listener.close();
});

test('bind: options backlog and reusePort', async (t) => {
  if (process.platform === 'win32') {
    // No SO_REUSEPORT: refused rather than silently not shared.
    const err = await t.throwsAsync(TcpListener.bind({ port: 0 }, { reusePort: true }));
    t.is((err as NodeJS.ErrnoException).code, 'ENOTSUP');
    return;
  }
  const a = await TcpListener.bind({ port: 0 }, { backlog: 16, reusePort: true });
  const b = await TcpListener.bind({ port: a.localAddr.port }, { reusePort: true });
  t.is(b.localAddr.port, a.localAddr.port);
  a.close();
  b.close();
});

test('bind/connect over IPv6 "[::1]:port"', async (t) => {
  if (!hasIPv6Loopback) {
    t.pass('no IPv6 loopback here');
    return;
  }
  const listener = await TcpListener.bind('[::1]:0');
  t.deepEqual({ address: listener.localAddr.address, family: listener.localAddr.family }, { address: '::1', family: 'IPv6' });
  const [client, server] = await Promise.all([TcpStream.connect(`[::1]:${listener.localAddr.port}`), listener.accept()]);
  t.is(client.peerAddr.address, '::1');
  t.is(client.peerAddr.family, 'IPv6');
  await client.writeAll('v6');
  t.is((await readExactly(server, 2)).toString(), 'v6');
  client.close();
  server.close();
  listener.close();
});

test('connect resolves host names ("localhost")', async (t) => {
  const listener = await listen();
  const [client, server] = await Promise.all([TcpStream.connect(`localhost:${listener.localAddr.port}`), listener.accept()]);
  t.is(client.peerAddr.port, listener.localAddr.port);
  client.close();
  server.close();
  listener.close();
});

test('connect/accept: addresses of both ends match', async (t) => {
  const { client, server, listener } = await pair();
  t.deepEqual(client.peerAddr, listener.localAddr);
  t.deepEqual(server.localAddr, listener.localAddr);
  t.deepEqual(server.peerAddr, client.localAddr);
  t.is(client.localAddr.family, 'IPv4');
  client.close();
  server.close();
  listener.close();
});

test('read/write/writeAll move bytes both ways', async (t) => {
  const { client, server, listener } = await pair();
  const n = await client.write(Buffer.from('hello'));
  t.true(n > 0 && n <= 5);
  if (n < 5) await client.writeAll(Buffer.from('hello').subarray(n));
  t.is((await readExactly(server, 5)).toString(), 'hello');
  await server.writeAll('wörld'); // strings go as UTF-8
  t.is((await readExactly(client, Buffer.byteLength('wörld'))).toString(), 'wörld');
  const big = pattern(1 << 20, 1);
  const [, echoed] = await Promise.all([client.writeAll(big), readExactly(server, big.length)]);
  t.true(echoed.equals(big));
  client.close();
  server.close();
  listener.close();
});

test('read into a Uint8Array view at an offset', async (t) => {
  const { client, server, listener } = await pair();
  await client.writeAll(new Uint8Array([1, 2, 3]));
  const backing = new Uint8Array(16);
  const view = backing.subarray(4, 8);
  let got = 0;
  while (got < 3) got += (await server.read(view.subarray(got))) ?? 0;
  t.deepEqual([...backing.subarray(0, 8)], [0, 0, 0, 0, 1, 2, 3, 0]);
  client.close();
  server.close();
  listener.close();
});

test('read into a 0-byte buffer resolves 0 at once; empty writes resolve at once', async (t) => {
  const { client, server, listener } = await pair();
  t.is(await server.read(new Uint8Array(0)), 0);
  t.is(await client.write(new Uint8Array(0)), 0);
  t.is(await client.write(''), 0);
  await client.writeAll(new Uint8Array(0));
  client.close();
  server.close();
  listener.close();
});

test('read resolves null at end of stream', async (t) => {
  const { client, server, listener } = await pair();
  await client.writeAll('bye');
  client.close();
  t.is((await readAll(server)).toString(), 'bye');
  t.is(await server.read(new Uint8Array(8)), null);
  server.close();
  listener.close();
});

test('read/write/writeAll return promises also when the syscall completed at once', async (t) => {
  const { client, server, listener } = await pair();
  const w = client.write('ab');
  t.true(w instanceof Promise);
  t.is(await w, 2);
  const wa = client.writeAll('cd');
  t.true(wa instanceof Promise);
  t.is(await wa, undefined);
  const buf = new Uint8Array(4);
  let got = 0;
  while (got < 4) {
    const r = server.read(buf.subarray(got));
    t.true(r instanceof Promise);
    got += (await r) ?? 0;
  }
  t.is(Buffer.from(buf).toString(), 'abcd');
  await client.shutdown();
  // End of stream is null whether the read finds it at once or waits for it.
  for (let i = 0; i < 2; i++) {
    const r = server.read(buf);
    t.true(r instanceof Promise);
    t.is(await r, null);
  }
  client.close();
  server.close();
  listener.close();
});

test('half-close: shutdown lets the peer read EOF while this side keeps reading', async (t) => {
  const { client, server, listener } = await pair();
  await client.writeAll('request');
  await client.shutdown();
  t.is((await readAll(server)).toString(), 'request');
  // The server can still write after the client's half-close; the client can still read.
  await server.writeAll('response');
  await server.shutdown();
  t.is((await readAll(client)).toString(), 'response');
  client.close();
  server.close();
  listener.close();
});

test('a read and a write may be pending at the same time', async (t) => {
  const { client, server, listener } = await pair();
  const pendingRead = client.read(new Uint8Array(4));
  await client.writeAll('ping');
  t.is((await readExactly(server, 4)).toString(), 'ping');
  await server.writeAll('pong');
  t.is(await pendingRead, 4);
  client.close();
  server.close();
  listener.close();
});

test('close during a pending read rejects it with ERR_SOCKET_CLOSED', async (t) => {
  const { client, server, listener } = await pair();
  const pending = server.read(new Uint8Array(16));
  server.close();
  const err = await t.throwsAsync(pending);
  t.is(codeOf(err), 'ERR_SOCKET_CLOSED');
  t.true(server.closed);
  client.close();
  listener.close();
});

test('operations after close reject with ERR_SOCKET_CLOSED; close is idempotent', async (t) => {
  const { client, server, listener } = await pair();
  client.close();
  client.close();
  for (const op of [
    () => client.read(new Uint8Array(1)),
    () => client.write('x'),
    () => client.writeAll('x'),
    () => client.shutdown(),
  ]) {
    t.is(codeOf(await t.throwsAsync(op())), 'ERR_SOCKET_CLOSED');
  }
  t.is(codeOf(t.throws(() => client.setNoDelay())), 'ERR_SOCKET_CLOSED');
  t.is(codeOf(t.throws(() => client.peerAddr)), 'ERR_SOCKET_CLOSED');
  server.close();
  listener.close();
  t.is(codeOf(await t.throwsAsync(listener.accept())), 'ERR_SOCKET_CLOSED');
});

test('close during a pending accept rejects it with ERR_SOCKET_CLOSED', async (t) => {
  const listener = await listen();
  const pending = listener.accept();
  listener.close();
  t.is(codeOf(await t.throwsAsync(pending)), 'ERR_SOCKET_CLOSED');
  t.true(listener.closed);
});

test('connect to a closed port rejects with ECONNREFUSED (syscall, address, port)', async (t) => {
  const listener = await listen();
  const { port } = listener.localAddr;
  listener.close();
  const err = (await t.throwsAsync(TcpStream.connect({ port }))) as Error & Record<string, unknown>;
  t.is(err.code, 'ECONNREFUSED');
  t.is(err.syscall, 'connect');
  t.is(err.address, '127.0.0.1');
  t.is(err.port, port);
});

test('bind to a used port rejects with EADDRINUSE', async (t) => {
  const listener = await listen();
  const { port } = listener.localAddr;
  const err = (await t.throwsAsync(TcpListener.bind({ port }))) as Error & Record<string, unknown>;
  t.is(err.code, 'EADDRINUSE');
  t.is(err.port, port);
  listener.close();
});

test('a write to a peer that closed eventually rejects with EPIPE or ECONNRESET', async (t) => {
  const { client, server, listener } = await pair();
  server.close();
  const chunk = Buffer.alloc(64 * 1024);
  const err = await t.throwsAsync(async () => {
    // The first writes may succeed (they fill the kernel buffer); the peer answers with RST.
    for (let i = 0; i < 10_000; i++) await client.writeAll(chunk);
  });
  t.true(['EPIPE', 'ECONNRESET'].includes(codeOf(err) as string), String(codeOf(err)));
  client.close();
  listener.close();
});

test('setNoDelay and setKeepAlive accept their options and chain', async (t) => {
  const { client, server, listener } = await pair();
  t.is(client.setNoDelay(), client);
  t.is(client.setNoDelay(false), client);
  t.is(client.setKeepAlive(), client);
  t.is(client.setKeepAlive(true, 1000), client);
  t.is(client.setKeepAlive(false), client);
  client.close();
  server.close();
  listener.close();
});

test('connect options noDelay and keepAlive', async (t) => {
  const listener = await listen();
  const [client, server] = await Promise.all([
    TcpStream.connect(listener.localAddr, { noDelay: true, keepAlive: true }),
    listener.accept(),
  ]);
  await client.writeAll('ok');
  t.is((await readExactly(server, 2)).toString(), 'ok');
  client.close();
  server.close();
  listener.close();
});

test('ref/unref chain on streams and listeners', async (t) => {
  const { client, server, listener } = await pair();
  t.is(client.unref(), client);
  t.is(client.ref(), client);
  t.is(listener.unref(), listener);
  t.is(listener.ref(), listener);
  client.close();
  server.close();
  listener.close();
  // No-ops after close.
  t.is(client.ref(), client);
  t.is(listener.unref(), listener);
});

test('Symbol.asyncDispose closes streams and listeners', async (t) => {
  const { client, server, listener } = await pair();
  await client[Symbol.asyncDispose]();
  t.true(client.closed);
  t.is(await server.read(new Uint8Array(1)), null);
  await server[Symbol.asyncDispose]();
  await listener[Symbol.asyncDispose]();
  t.true(server.closed);
  t.true(listener.closed);
});

test('for await over a listener yields connections; break closes the listener', async (t) => {
  const listener = await listen();
  const { port } = listener.localAddr;
  const clients = await Promise.all([0, 1, 2].map(() => TcpStream.connect({ port })));
  let seen = 0;
  for await (const socket of listener) {
    t.true(socket instanceof TcpStream);
    socket.close();
    if (++seen === 3) break;
  }
  t.true(listener.closed);
  t.is(codeOf(await t.throwsAsync(TcpStream.connect({ port }))), 'ECONNREFUSED');
  for (const c of clients) c.close();
});

test('for await over a listener ends when the listener is closed', async (t) => {
  const listener = await listen();
  const loop = (async () => {
    let n = 0;
    for await (const socket of listener) {
      n++;
      socket.close();
      listener.close(); // after the first connection, close from inside
    }
    return n;
  })();
  const client = await TcpStream.connect(listener.localAddr);
  t.is(await loop, 1);
  client.close();

  // Closed from outside while the loop waits in accept.
  const other = await listen();
  const waiting = (async () => {
    for await (const socket of other) socket.close();
    return 'ended';
  })();
  other.close();
  t.is(await waiting, 'ended');
});

test('for await over a stream yields chunks until end of stream', async (t) => {
  const { client, server, listener } = await pair();
  const data = pattern(300_000, 7);
  const sending = client.writeAll(data).then(() => client.shutdown());
  const chunks: Uint8Array[] = [];
  for await (const chunk of server) {
    t.true(chunk instanceof Uint8Array);
    chunks.push(chunk);
  }
  await sending;
  t.true(Buffer.concat(chunks).equals(data), 'every byte arrives, in order, and chunks are not overwritten');
  t.false(server.closed, 'iteration to the end does not close the stream');
  client.close();
  server.close();
  listener.close();
});

test('for await over a stream ends when the stream is closed', async (t) => {
  const { client, server, listener } = await pair();
  await client.writeAll('one');
  const chunks: string[] = [];
  for await (const chunk of server) {
    chunks.push(Buffer.from(chunk).toString());
    server.close(); // the next read is interrupted: the loop ends quietly
  }
  t.deepEqual(chunks, ['one']);
  client.close();
  listener.close();
});

test('breaking out of for await over a stream leaves it open', async (t) => {
  const { client, server, listener } = await pair();
  await client.writeAll('first');
  for await (const chunk of server) {
    t.true(chunk.length > 0);
    break;
  }
  t.false(server.closed);
  await server.writeAll('still writable');
  t.is((await readExactly(client, 14)).toString(), 'still writable');
  client.close();
  server.close();
  listener.close();
});

test('AbortError is exported and carries the signal reason', async (t) => {
  const { client, server, listener } = await pair();
  const ac = new AbortController();
  const reason = new Error('stop');
  ac.abort(reason);
  const err = await t.throwsAsync(server.read(new Uint8Array(1), { signal: ac.signal }));
  t.true(err instanceof AbortError);
  t.is(err?.name, 'AbortError');
  t.is(codeOf(err), 'ABORT_ERR');
  t.is((err as Error).cause, reason);
  client.close();
  server.close();
  listener.close();
});

test('runtime.metrics() is a plain object of numbers', async (t) => {
  const { client, server, listener } = await pair();
  const m = runtime.metrics();
  for (const key of ['workers', 'aliveTasks', 'globalQueueDepth', 'pendingOps', 'refs', 'completions', 'wakeups'] as const) {
    t.is(typeof m[key], 'number', key);
  }
  t.true(m.workers >= 1);
  t.true(m.completions >= 2, 'bind, connect and accept settled through the completion queue');
  t.true(m.wakeups >= 1 && m.wakeups <= m.completions);
  t.not(runtime.metrics(), m, 'a fresh snapshot each call');
  client.close();
  server.close();
  listener.close();
});
