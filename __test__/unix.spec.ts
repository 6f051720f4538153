/**
 * Unix domain stream sockets (`UnixListener`, `UnixStream`): the TCP guarantees on a path —
 * every byte echoed in order (also 200 connections at once), native `copy` (also TCP↔Unix),
 * half-close, close and abort of pending operations, Node's error codes, the socket file's
 * life (created by bind, removed by close), node:http over the Duplex adapter, no descriptor
 * leak, and a process that exits once nothing is open. On Windows only the `ENOTSUP` of
 * bind/connect is checked.
 *
 * Socket files live in a fresh directory under the OS temp dir (short paths: macOS's sun_path
 * holds 104 bytes).
 */

import test from 'ava';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  copy,
  copyBidirectional,
  SocketStream,
  TcpListener,
  TcpStream,
  UnixListener,
  UnixStream,
} from '../src';
import { runFixture, rerunSpec } from './fixtures/run-fixture';
import { codeOf, pattern, readAll, readExactly } from './fixtures/tcp-util';

const windows = process.platform === 'win32';
const unix = windows ? test.skip : test;
/** As `unix`, run before the concurrent tests, one at a time. */
const unixSerial = windows ? test.serial.skip : test.serial;

const dir = windows ? '' : fs.mkdtempSync(path.join(os.tmpdir(), 'corio-u-'));
let seq = 0;
/** A fresh socket path in this file's directory. */
const sockPath = (): string => path.join(dir, `s${seq++}.sock`);

test.after.always(() => {
  if (!windows) fs.rmSync(dir, { recursive: true, force: true });
});

/** One macrotask turn: what was just called has started natively (not a timing wait). */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function unixPair(): Promise<{ client: UnixStream; server: UnixStream; listener: UnixListener; file: string }> {
  const file = sockPath();
  const listener = await UnixListener.bind(file);
  const [client, server] = await Promise.all([UnixStream.connect(file), listener.accept()]);
  return { client, server, listener, file };
}

/** Echoes with read + writeAll until end of stream, then half-closes and closes. */
async function echo(s: SocketStream): Promise<void> {
  const buf = new Uint8Array(16 * 1024);
  try {
    for (let n; (n = await s.read(buf)) !== null; ) await s.writeAll(buf.subarray(0, n));
    await s.shutdown();
  } finally {
    s.close();
  }
}

if (windows) {
  test('Windows: bind and connect reject with ENOTSUP', async (t) => {
    await t.throwsAsync(UnixListener.bind('C:\\corio-test.sock'), { code: 'ENOTSUP' });
    await t.throwsAsync(UnixStream.connect('C:\\corio-test.sock'), { code: 'ENOTSUP' });
  });
}

unix('echo through read/writeAll, every byte checked; addresses are paths', async (t) => {
  const { client, server, listener, file } = await unixPair();
  t.deepEqual(listener.localAddr, { path: file });
  t.deepEqual(client.peerAddr, { path: file });
  t.deepEqual(client.localAddr, { path: '' });
  t.deepEqual(server.localAddr, { path: file });
  t.is(typeof (client as unknown as { setNoDelay?: unknown }).setNoDelay, 'undefined');
  const served = echo(server);
  const data = pattern(1 << 20, 7);
  const [, back] = await Promise.all([client.writeAll(data).then(() => client.shutdown()), readAll(client)]);
  t.true(back.equals(data));
  await served;
  client.close();
  listener.close();
});

// 100, not more: a Unix connect is refused, not retried, once the accept queue is full, and
// somaxconn caps it at 128 on macOS and older Linux.
unix('100 concurrent connections echo their own bytes', async (t) => {
  const file = sockPath();
  const listener = await UnixListener.bind(file);
  const N = 100;
  const serving = (async () => {
    const all: Promise<void>[] = [];
    for (let i = 0; i < N; i++) all.push(echo(await listener.accept()));
    await Promise.all(all);
  })();
  const results = await Promise.all(
    Array.from({ length: N }, async (_, i) => {
      const c = await UnixStream.connect(file);
      const data = pattern(16 * 1024 + i, i);
      const [, back] = await Promise.all([c.writeAll(data).then(() => c.shutdown()), readAll(c)]);
      c.close();
      return back.equals(data);
    }),
  );
  await serving;
  t.is(results.filter(Boolean).length, N);
  listener.close();
});

unix('several pending reads and writes keep call order in each direction', async (t) => {
  const { client, server, listener } = await unixPair();
  const bufs = [0, 1, 2, 3, 4].map(() => new Uint8Array(1));
  const reads = bufs.map((b) => server.read(b));
  await turn();
  const writes = [0, 1, 2, 3, 4].map((i) => client.writeAll(String.fromCharCode(97 + i)));
  await Promise.all(writes);
  t.deepEqual(await Promise.all(reads), [1, 1, 1, 1, 1]);
  t.is(Buffer.concat(bufs).toString(), 'abcde');
  client.close();
  server.close();
  listener.close();
});

unix('copy(s, s) echoes natively', async (t) => {
  const { client, server, listener } = await unixPair();
  const copied = copy(server, server);
  const data = pattern(3 << 20, 3);
  const [, back] = await Promise.all([client.writeAll(data).then(() => client.shutdown()), readAll(client)]);
  t.true(back.equals(data));
  t.is(await copied, data.length);
  client.close();
  server.close();
  listener.close();
});

unix('a TCP↔Unix proxy with copyBidirectional moves every byte both ways', async (t) => {
  // Upstream: a Unix echo server. Proxy: TCP in front of it.
  const file = sockPath();
  const upstream = await UnixListener.bind(file);
  const front = await TcpListener.bind({ port: 0 });
  const upstreamServed = upstream.accept().then(echo);
  const proxied = (async () => {
    const inbound = await front.accept();
    const outbound = await UnixStream.connect(file);
    try {
      return await copyBidirectional(inbound, outbound);
    } finally {
      inbound.close();
      outbound.close();
    }
  })();
  const client = await TcpStream.connect(front.localAddr);
  const data = pattern(2 << 20, 11);
  const [, back] = await Promise.all([client.writeAll(data).then(() => client.shutdown()), readAll(client)]);
  t.true(back.equals(data));
  t.deepEqual(await proxied, [data.length, data.length]);
  await upstreamServed;
  client.close();
  front.close();
  upstream.close();
});

unix('half-close: the peer reads end of stream and can still answer', async (t) => {
  const { client, server, listener } = await unixPair();
  await client.writeAll('question');
  await client.shutdown();
  t.is((await readAll(server)).toString(), 'question');
  await server.writeAll('answer');
  server.close();
  t.is((await readAll(client)).toString(), 'answer');
  client.close();
  listener.close();
});

unix('close during a pending read or accept rejects it with ERR_SOCKET_CLOSED', async (t) => {
  const { client, server, listener } = await unixPair();
  const read = server.read(new Uint8Array(8));
  const accept = listener.accept();
  await turn();
  server.close();
  listener.close();
  await t.throwsAsync(read, { code: 'ERR_SOCKET_CLOSED' });
  await t.throwsAsync(accept, { code: 'ERR_SOCKET_CLOSED' });
  await t.throwsAsync(server.writeAll('x'), { code: 'ERR_SOCKET_CLOSED' });
  t.throws(() => server.localAddr, { code: 'ERR_SOCKET_CLOSED' });
  // The peer sees end of stream.
  t.is(await client.read(new Uint8Array(8)), null);
  client.close();
});

unix('abort at each await point: bind, connect, accept, read, writeAll, copy', async (t) => {
  const aborted = AbortSignal.abort();
  const notBound = sockPath();
  await t.throwsAsync(UnixListener.bind(notBound, { signal: aborted }), { name: 'AbortError' });
  t.false(fs.existsSync(notBound), 'an aborted bind leaves no socket file');
  const { client, server, listener, file } = await unixPair();
  await t.throwsAsync(UnixStream.connect(file, { signal: aborted }), { name: 'AbortError' });

  // accept: aborted while pending; a later connection goes to the next accept.
  let ac = new AbortController();
  const accept = listener.accept({ signal: ac.signal });
  await turn();
  ac.abort();
  await t.throwsAsync(accept, { name: 'AbortError' });
  const [c2, s2] = await Promise.all([UnixStream.connect(file), listener.accept()]);
  c2.close();
  s2.close();

  // read: aborted while pending; nothing is lost, the next read gets the bytes.
  ac = new AbortController();
  const buf = new Uint8Array(8);
  const read = server.read(buf, { signal: ac.signal });
  await turn();
  ac.abort();
  await t.throwsAsync(read, { name: 'AbortError' });
  await client.writeAll('late');
  t.is((await readExactly(server, 4)).toString(), 'late');

  // writeAll: pending on a full socket buffer (nobody reads), then aborted.
  ac = new AbortController();
  const write = client.writeAll(Buffer.alloc(16 << 20), { signal: ac.signal });
  await turn();
  ac.abort();
  await t.throwsAsync(write, { name: 'AbortError' });

  // copy: aborted while it waits for data.
  const { client: c3, server: s3, listener: l3 } = await unixPair();
  ac = new AbortController();
  const copying = copy(s3, s3, { signal: ac.signal });
  await turn();
  ac.abort();
  await t.throwsAsync(copying, { name: 'AbortError' });
  for (const s of [client, server, c3, s3]) s.close();
  listener.close();
  l3.close();
});

unix('bind on an existing path rejects with EADDRINUSE; the file is removed on close', async (t) => {
  const file = sockPath();
  const listener = await UnixListener.bind(file);
  t.true(fs.statSync(file).isSocket());
  const err = await t.throwsAsync(UnixListener.bind(file));
  t.is(codeOf(err), 'EADDRINUSE');
  t.is((err as { address?: string }).address, file);
  t.false('port' in (err as object), 'a Unix socket error has no port');
  listener.close();
  t.false(fs.existsSync(file), 'close removes the socket file');
  // Rebinding the same path works once it is gone.
  const again = await UnixListener.bind(file);
  again.close();
  t.false(fs.existsSync(file));
  // A regular file in the way is EADDRINUSE too, and close of another listener never removes it.
  const plain = sockPath();
  fs.writeFileSync(plain, 'x');
  await t.throwsAsync(UnixListener.bind(plain), { code: 'EADDRINUSE' });
  t.true(fs.existsSync(plain));
});

unix('a listener does not remove a file that replaced its socket file', async (t) => {
  const file = sockPath();
  const listener = await UnixListener.bind(file);
  fs.unlinkSync(file);
  fs.writeFileSync(file, 'someone else');
  listener.close();
  t.is(fs.readFileSync(file, 'utf8'), 'someone else');
});

unix('connect to a missing path rejects with ENOENT', async (t) => {
  const file = sockPath();
  const err = await t.throwsAsync(UnixStream.connect(file));
  t.is(codeOf(err), 'ENOENT');
  t.is((err as { syscall?: string }).syscall, 'connect');
  t.is((err as { address?: string }).address, file);
  t.false('port' in (err as object), 'a Unix socket error has no port');
});

unix('connect to a stale socket file (its process was killed) rejects with ECONNREFUSED', async (t) => {
  const file = sockPath();
  const fixture = path.join(__dirname, 'fixtures', 'unix-exit.ts');
  // The child binds with node:net and is SIGKILLed once ready: the file stays, nobody listens.
  const r = await runFixture(fixture, ['stale', file], {
    hangGuardMs: 60_000,
    onStdout: (out, child) => {
      if (out.includes('ready')) child.kill('SIGKILL');
    },
  });
  t.false(r.hung, r.stderr);
  t.is(r.signal, 'SIGKILL', r.stderr);
  t.true(fs.existsSync(file));
  await t.throwsAsync(UnixStream.connect(file), { code: 'ECONNREFUSED' });
  // As with node:net, a stale file must be removed before binding again.
  await t.throwsAsync(UnixListener.bind(file), { code: 'EADDRINUSE' });
  fs.unlinkSync(file);
  (await UnixListener.bind(file)).close();
});

unix('bad arguments throw synchronously, naming the argument', (t) => {
  for (const bad of [undefined, 42, {}, null]) {
    t.throws(() => UnixStream.connect(bad as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: /"path"/ });
    t.throws(() => UnixListener.bind(bad as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: /"path"/ });
  }
  t.throws(() => UnixStream.connect(''), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE', message: /'path'/ });
  t.throws(() => UnixListener.bind('a\0b'), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE', message: /'path'/ });
  const long = path.join(dir, 'x'.repeat(120));
  t.throws(() => UnixListener.bind(long), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE', message: /"path.length"/ });
  t.throws(() => UnixStream.connect(long), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE', message: /"path.length"/ });
  t.throws(() => UnixListener.bind(sockPath(), { backlog: 0 }), { instanceOf: RangeError, message: /"opts.backlog"/ });
  t.throws(() => UnixListener.bind(sockPath(), { signal: 1 as never }), { instanceOf: TypeError, message: /opts.signal/ });
  t.throws(() => copy({} as never, {} as never), { instanceOf: TypeError, message: /"from"/ });
});

unix('the longest path the platform allows binds and connects', async (t) => {
  const max = process.platform === 'linux' ? 107 : 103;
  const base = path.join(dir, 'L');
  const file = base + 'x'.repeat(Math.max(0, max - Buffer.byteLength(base)));
  t.is(Buffer.byteLength(file), max);
  const listener = await UnixListener.bind(file);
  const [c, s] = await Promise.all([UnixStream.connect(file), listener.accept()]);
  await c.writeAll('ok');
  t.is((await readExactly(s, 2)).toString(), 'ok');
  c.close();
  s.close();
  listener.close();
  t.false(fs.existsSync(file));
});

unix('iteration, readable (BYOB) and writable work over a Unix stream', async (t) => {
  const { client, server, listener } = await unixPair();
  const writer = client.writable.getWriter();
  await writer.write(new TextEncoder().encode('via '));
  await writer.write(new TextEncoder().encode('writable'));
  await writer.close(); // half-close
  const chunks: Buffer[] = [];
  for await (const chunk of server) chunks.push(Buffer.from(chunk));
  t.is(Buffer.concat(chunks).toString(), 'via writable');
  await server.writeAll('byob');
  await server.shutdown();
  const reader = client.readable.getReader({ mode: 'byob' });
  const got: number[] = [];
  for (;;) {
    const { value, done } = await reader.read(new Uint8Array(16));
    if (done) break;
    got.push(...value);
  }
  t.is(Buffer.from(got).toString(), 'byob');
  client.close();
  server.close();
  listener.close();
});

unix('node:http serves requests over toNodeStream()', async (t) => {
  const file = sockPath();
  const listener = await UnixListener.bind(file);
  const server = http.createServer((req, res) => res.end(`hello ${req.url}`));
  const accepting = (async () => {
    for await (const s of listener) server.emit('connection', s.toNodeStream());
  })();
  const get = (p: string): Promise<string> =>
    new Promise((resolve, reject) => {
      http
        .get({ socketPath: file, path: p, agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve(body));
        })
        .on('error', reject);
    });
  t.is(await get('/a'), 'hello /a');
  t.deepEqual(await Promise.all([get('/b'), get('/c')]), ['hello /b', 'hello /c']);
  listener.close();
  await accepting;
  server.close();
});

// Serial: /proc/self/fd counts the whole process, so no other test may run meanwhile.
const linuxSerial = process.platform === 'linux' ? test.serial : test.serial.skip;

linuxSerial('no descriptor leak over 500 connect/close cycles (and 50 bind/close)', async (t) => {
  const fds = (): number => fs.readdirSync('/proc/self/fd').length;
  const file = sockPath();
  // Warm up (the runtime, the JS-loop poll state) before the baseline.
  {
    const { client, server, listener } = await unixPair();
    await client.writeAll('w');
    await readExactly(server, 1);
    client.close();
    server.close();
    listener.close();
  }
  const before = fds();
  const listener = await UnixListener.bind(file);
  for (let i = 0; i < 500; i++) {
    const [c, s] = await Promise.all([UnixStream.connect(file), listener.accept()]);
    const pending = s.read(new Uint8Array(4));
    await c.writeAll('ping');
    await pending;
    c.close();
    s.close();
  }
  listener.close();
  for (let i = 0; i < 50; i++) (await UnixListener.bind(file)).close();
  t.false(fs.existsSync(file));
  // Closing is synchronous except for the JS-loop poll handles' close callbacks: wait (bounded)
  // for the count to come back instead of sleeping a fixed time.
  let after = fds();
  for (let i = 0; i < 500 && after > before; i++) {
    await new Promise((r) => setTimeout(r, 10));
    after = fds();
  }
  t.true(after <= before, `fds ${before} → ${after}`);
});

unix('the process exits by itself once listener and streams are closed, or unref\'d', async (t) => {
  const fixture = path.join(__dirname, 'fixtures', 'unix-exit.ts');
  for (const mode of ['natural', 'unref']) {
    const file = sockPath();
    const r = await runFixture(fixture, [mode, file], { hangGuardMs: 60_000 });
    t.false(r.hung, `${mode}: did not exit by itself; ${r.stdout} ${r.stderr}`);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout.trim(), 'done');
    if (mode === 'natural') t.false(fs.existsSync(file), 'the closed listener removed its file');
  }
});

// Serial: serial tests run before the concurrent ones, so this rerun (spawnSync, which blocks
// this process's event loop) does not hold up other tests' timers.
unixSerial('this file passes with CORIO_JS_POLL=0 too (reads on the runtime instead of the JS loop)', async (t) => {
  if (process.env.CORIO_JS_POLL === '0') {
    t.pass('already the runtime-path run');
    return;
  }
  const r = rerunSpec('__test__/unix.spec.ts', { CORIO_JS_POLL: '0' });
  t.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
});
