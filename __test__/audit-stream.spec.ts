/**
 * Audit of the stream API against node:net and the WHATWG streams spec: each test here failed
 * before the fix it names (see the commit that added it).
 */

import test from 'ava';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { TcpListener, TcpStream } from '../src';
import { codeOf, pair } from './fixtures/tcp-util';

test('writable.abort() while a write waits for the peer closes the socket at once', async (t) => {
  t.timeout(20_000);
  const { client, server, listener } = await pair();
  const writer = client.writable.getWriter();
  // Far more than the socket buffers hold: the write waits while the peer reads nothing more.
  const pending = writer.write(Buffer.alloc(64 << 20));
  pending.catch(() => undefined);
  // Proof that the write is in flight: the peer received some of it.
  t.not(await server.read(Buffer.alloc(1024)), null);
  // The spec runs the sink's abort() only after the in-flight write settles; the socket must
  // be closed without waiting for the peer (which never reads again).
  await writer.abort(new Error('stop'));
  t.true(client.closed);
  t.is(codeOf(await t.throwsAsync(pending)), 'ERR_SOCKET_CLOSED');
  server.close();
  listener.close();
});

test('toNodeStream(): ref()/unref() as on net.Socket, so a keep-alive http.Agent can pool it', async (t) => {
  t.timeout(20_000);
  const httpServer = http.createServer((req, res) => res.end(`hello ${req.url}`));
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const port = (httpServer.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true });
  let connections = 0;
  // `createConnection(options, callback)` is the Agent's documented hook for custom sockets.
  (agent as unknown as { createConnection: unknown }).createConnection = (
    _opts: unknown,
    cb: (err: Error | null, socket?: Duplex) => void,
  ) => {
    connections++;
    TcpStream.connect({ port }).then((s) => cb(null, s.toNodeStream()), cb);
  };
  const get = (path: string): Promise<string> =>
    new Promise((resolve, reject) => {
      http
        .get({ port, agent, path }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
  // The agent calls socket.unref() when a request is done (keepSocketAlive) and socket.ref()
  // when it reuses the socket: without them, 'free' threw a TypeError out of a process tick.
  t.is(await get('/a'), 'hello /a');
  t.is(await get('/b'), 'hello /b');
  t.is(connections, 1);
  agent.destroy();
  await new Promise((resolve) => httpServer.close(resolve));

  const { client, server, listener } = await pair();
  const duplex = client.toNodeStream() as Duplex & { ref(): unknown; unref(): unknown };
  t.is(duplex.unref(), duplex);
  t.is(duplex.ref(), duplex);
  duplex.destroy();
  server.close();
  listener.close();
});

test('close() rejects a shutdown queued behind a waiting writeAll (it must not run after close)', async (t) => {
  t.timeout(20_000);
  for (let i = 0; i < 5; i++) {
    const { client, server, listener } = await pair();
    // Waits for room: the peer reads nothing.
    const writing = client.writeAll(Buffer.alloc(64 << 20));
    // Queued behind the write on the write lock.
    const shuttingDown = client.shutdown();
    client.close();
    // Closing dropped the write, which released the lock: the shutdown used to be woken, run
    // on the runtime and resolve although close() said pending ops reject.
    t.is(codeOf(await t.throwsAsync(writing)), 'ERR_SOCKET_CLOSED');
    t.is(codeOf(await t.throwsAsync(shuttingDown)), 'ERR_SOCKET_CLOSED');
    server.close();
    listener.close();
  }
});

test('a host too long for the binding is a RangeError naming the argument the caller passed', (t) => {
  const long = 'a'.repeat(2000);
  for (const call of [
    () => TcpStream.connect({ host: long, port: 80 }),
    () => TcpListener.bind({ host: long, port: 0 }),
  ]) {
    const err = t.throws(call, { instanceOf: RangeError });
    t.is(codeOf(err), 'ERR_OUT_OF_RANGE');
    // It named the binding's parameter ("host"), not the caller's "addr.host".
    t.regex(err!.message, /"addr\.host"/);
  }
  const err = t.throws(() => TcpStream.connect(`${long}:80`), { instanceOf: RangeError });
  t.regex(err!.message, /"addr\.host"/);
});
