/**
 * Byte-stream utilities and adapters: native copy/copyBidirectional, WHATWG streams (incl. BYOB
 * readers), the Node Duplex (backpressure, half-close, pipeline) and node:http over it.
 */

import test from 'ava';
import * as http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { copy, copyBidirectional, SocketDuplex, TcpStream } from '../src';
import { codeOf, listen, pair, pattern, readAll } from './fixtures/tcp-util';

test('copy(socket, socket) echoes until end of stream, then shuts the writer down', async (t) => {
  const { client, server, listener } = await pair();
  const echo = copy(server, server);
  const data = pattern(2 << 20, 3);
  const [received] = await Promise.all([readAll(client), client.writeAll(data).then(() => client.shutdown())]);
  t.true(received.equals(data));
  t.is(await echo, data.length);
  client.close();
  server.close();
  listener.close();
});

test('copy between two connections', async (t) => {
  const a = await pair();
  const b = await pair();
  const moving = copy(a.server, b.client);
  const data = pattern(500_000, 4);
  const [received] = await Promise.all([readAll(b.server), a.client.writeAll(data).then(() => a.client.shutdown())]);
  t.true(received.equals(data));
  t.is(await moving, data.length);
  for (const p of [a, b]) {
    p.client.close();
    p.server.close();
    p.listener.close();
  }
});

test('copy rejects with ERR_SOCKET_CLOSED when a stream is closed under it', async (t) => {
  const { client, server, listener } = await pair();
  const moving = copy(server, server);
  server.close();
  t.is(codeOf(await t.throwsAsync(moving)), 'ERR_SOCKET_CLOSED');
  client.close();
  listener.close();
});

test('copyBidirectional forwards both ways and reports both counts', async (t) => {
  // A backend echo server, a proxy in front of it, and a client of the proxy.
  const backend = await listen();
  const front = await listen();
  void (async () => {
    for await (const socket of backend) void copy(socket, socket).finally(() => socket.close());
  })();
  const clientP = TcpStream.connect(front.localAddr);
  const inbound = await front.accept();
  const outbound = await TcpStream.connect(backend.localAddr);
  const proxying = copyBidirectional(inbound, outbound);
  const client = await clientP;
  const data = pattern(1 << 20, 5);
  const [echoed] = await Promise.all([readAll(client), client.writeAll(data).then(() => client.shutdown())]);
  t.true(echoed.equals(data));
  t.deepEqual(await proxying, [data.length, data.length]);
  for (const s of [client, inbound, outbound]) s.close();
  front.close();
  backend.close();
});

test('copy validates its arguments', (t) => {
  t.is(codeOf(t.throws(() => copy({} as TcpStream, {} as TcpStream))), 'ERR_INVALID_ARG_TYPE');
  t.is(codeOf(t.throws(() => copyBidirectional(null as unknown as TcpStream, {} as TcpStream))), 'ERR_INVALID_ARG_TYPE');
});

test('readable: a default reader gets every byte until end of stream', async (t) => {
  const { client, server, listener } = await pair();
  t.is(server.readable, server.readable, 'one stream per socket');
  const data = pattern(400_000, 6);
  void client.writeAll(data).then(() => client.shutdown());
  const parts: Uint8Array[] = [];
  const reader = server.readable.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  t.true(Buffer.concat(parts).equals(data));
  client.close();
  server.close();
  listener.close();
});

test('readable: a BYOB reader reads into the caller’s buffer', async (t) => {
  const { client, server, listener } = await pair();
  await client.writeAll('byob-bytes');
  await client.shutdown();
  const reader = server.readable.getReader({ mode: 'byob' });
  let buffer = new ArrayBuffer(4);
  const got: number[] = [];
  for (;;) {
    const { value, done } = await reader.read(new Uint8Array(buffer));
    if (done) break;
    t.true(value.byteLength <= 4);
    got.push(...value);
    buffer = value.buffer; // the buffer was transferred back to us
  }
  t.is(Buffer.from(got).toString(), 'byob-bytes');
  client.close();
  server.close();
  listener.close();
});

test('readable: cancel closes the socket', async (t) => {
  const { client, server, listener } = await pair();
  await server.readable.cancel();
  t.true(server.closed);
  t.is(await client.read(new Uint8Array(1)), null);
  client.close();
  listener.close();
});

test('writable: writes chunks; close half-closes; pipeTo between sockets', async (t) => {
  const { client, server, listener } = await pair();
  t.is(client.writable, client.writable);
  const writer = client.writable.getWriter();
  await writer.write(new TextEncoder().encode('web '));
  await writer.write(new TextEncoder().encode('streams'));
  await writer.close();
  t.is((await readAll(server)).toString(), 'web streams');

  // server.readable piped into another socket's writable.
  const other = await pair();
  const data = pattern(200_000, 8);
  const piping = other.server.readable.pipeTo(server.writable);
  await other.client.writeAll(data);
  await other.client.shutdown();
  t.true((await readAll(client)).equals(data));
  await piping;
  for (const s of [client, server, other.client, other.server]) s.close();
  listener.close();
  other.listener.close();
});

test('writable: abort closes the socket; a non-Uint8Array chunk errors the stream', async (t) => {
  const a = await pair();
  await a.client.writable.abort(new Error('stop'));
  t.true(a.client.closed);
  const b = await pair();
  const writer = b.client.writable.getWriter();
  t.is(codeOf(await t.throwsAsync(writer.write('text' as unknown as Uint8Array))), 'ERR_INVALID_ARG_TYPE');
  for (const p of [a, b]) {
    p.client.close();
    p.server.close();
    p.listener.close();
  }
});

test('toNodeStream: a Duplex with backpressure (write() false, then drain) and every byte intact', async (t) => {
  const { client, server, listener } = await pair();
  const duplex = client.toNodeStream({ writableHighWaterMark: 16 * 1024 });
  t.true(duplex instanceof SocketDuplex);
  const chunk = pattern(64 * 1024, 9);
  const total = 256; // 16 MiB: more than the kernel buffers, so the peer's pace matters
  let sawBackpressure = false;
  const writing = (async () => {
    for (let i = 0; i < total; i++) {
      if (!duplex.write(chunk)) {
        sawBackpressure = true;
        await new Promise((resolve) => duplex.once('drain', resolve));
      }
    }
    duplex.end();
  })();
  let received = 0;
  let intact = true;
  const buf = Buffer.alloc(64 * 1024);
  let offset = 0;
  for (;;) {
    const n = await server.read(buf);
    if (n === null) break;
    for (let i = 0; i < n; i++) {
      if (buf[i] !== chunk[(offset + i) % chunk.length]) intact = false;
    }
    offset = (offset + n) % chunk.length;
    received += n;
  }
  await writing;
  t.true(sawBackpressure);
  t.true(intact);
  t.is(received, total * chunk.length);
  duplex.destroy();
  server.close();
  listener.close();
});

test('toNodeStream: reading, end at EOF, pipeline, destroy closes the socket', async (t) => {
  const { client, server, listener } = await pair();
  const duplex = server.toNodeStream({ allowHalfOpen: true });
  const data = pattern(300_000, 10);
  void client.writeAll(data).then(() => client.shutdown());
  const parts: Buffer[] = [];
  await pipeline(
    duplex,
    new Writable({
      write(c: Buffer, _e, cb) {
        parts.push(c);
        cb();
      },
    }),
  );
  t.true(Buffer.concat(parts).equals(data));
  // allowHalfOpen: the duplex may still write after the peer ended.
  await pipeline(Readable.from([Buffer.from('reply')]), duplex);
  t.is((await readAll(client)).toString(), 'reply');
  duplex.destroy();
  t.true(server.closed);
  client.close();
  listener.close();
});

test('toNodeStream: net.Socket-like members', async (t) => {
  const { client, server, listener } = await pair();
  const duplex = server.toNodeStream() as SocketDuplex;
  t.is(duplex.remoteAddress, '127.0.0.1');
  t.is(duplex.remotePort, client.localAddr.port);
  t.is(duplex.localPort, listener.localAddr.port);
  t.is(duplex.remoteFamily, 'IPv4');
  t.is(duplex.setNoDelay(true), duplex);
  t.is(duplex.setKeepAlive(true, 1000), duplex);
  // An idle timeout fires 'timeout' (no reads or writes happen here).
  await new Promise<void>((resolve) => duplex.setTimeout(10, resolve));
  duplex.setTimeout(0);
  duplex.destroy();
  client.close();
  listener.close();
});

test('node:http serves requests over toNodeStream()', async (t) => {
  const listener = await listen();
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      res.setHeader('content-type', 'text/plain');
      res.end(`${req.method} ${req.url} ${body}`);
    });
  });
  const serving = (async () => {
    for await (const socket of listener) server.emit('connection', socket.toNodeStream());
  })();
  const { port } = listener.localAddr;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const request = (path: string, body: string): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  t.deepEqual(await request('/hello', 'corio'), { status: 200, text: 'POST /hello corio' });
  // A second request on the same keep-alive connection.
  t.deepEqual(await request('/again', 'x'.repeat(100_000)), { status: 200, text: `POST /again ${'x'.repeat(100_000)}` });
  agent.destroy();
  listener.close();
  await serving;
  server.closeAllConnections();
  t.pass();
});

test('toNodeStream validates options', async (t) => {
  const { client, server, listener } = await pair();
  t.is(codeOf(t.throws(() => client.toNodeStream({ allowHalfOpen: 'yes' as unknown as boolean }))), 'ERR_INVALID_ARG_TYPE');
  t.is(codeOf(t.throws(() => client.toNodeStream({ readableHighWaterMark: -1 }))), 'ERR_OUT_OF_RANGE');
  client.close();
  server.close();
  listener.close();
});
