/**
 * Faults: the peer resets the connection (SO_LINGER 0, via node:net's `resetAndDestroy()`)
 * while a read is pending, while a write is blocked on a full send buffer, and while a native
 * `copy` runs; and the peer disappears (closes without reading) during a 64 MiB `writeAll`.
 * The failure surfaces on that stream with Node's `code`, and a parallel echo connection keeps
 * working through it all (its bytes checked end to end).
 */

import test from 'ava';
import * as net from 'node:net';
import { copy, TcpListener, TcpStream } from '../src';
import { codeOf, pair, pattern, readExactly } from './fixtures/tcp-util';

/** Codes a reset or vanished peer may legitimately surface as (Windows adds ECONNABORTED). */
const PEER_GONE = process.platform === 'win32' ? ['ECONNRESET', 'EPIPE', 'ECONNABORTED'] : ['ECONNRESET', 'EPIPE'];

/** A node:net server whose connections are handed out in order of arrival. */
async function nodeServer(): Promise<{ port: number; next: () => Promise<net.Socket>; close: () => void }> {
  const queue: net.Socket[] = [];
  const waiters: ((s: net.Socket) => void)[] = [];
  const server = net.createServer((s) => {
    const w = waiters.shift();
    if (w) w(s);
    else queue.push(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    next: () => {
      const s = queue.shift();
      return s ? Promise.resolve(s) : new Promise((resolve) => waiters.push(resolve));
    },
    close: () => server.close(),
  };
}

/** A corio echo server plus a client on it; `check()` does one verified round trip. */
async function parallelEcho(): Promise<{ check: (seed: number) => Promise<void>; close: () => void }> {
  const { client, server, listener } = await pair();
  const serving = copy(server, server).catch(() => 0);
  return {
    check: async (seed) => {
      const msg = pattern(64 * 1024 + seed, seed);
      const [, back] = await Promise.all([client.writeAll(msg), readExactly(client, msg.length)]);
      if (!back.equals(msg)) throw new Error('echo corrupted');
    },
    close: () => {
      client.close();
      server.close();
      listener.close();
      void serving;
    },
  };
}

/** Resets `sock`'s connection (SO_LINGER 0 then close: the peer gets an RST). */
function resetNow(sock: net.Socket): void {
  sock.resetAndDestroy();
}

test('a reset during a pending read rejects that read with ECONNRESET; other connections go on', async (t) => {
  const echo = await parallelEcho();
  const srv = await nodeServer();
  try {
    await echo.check(1);
    const stream = await TcpStream.connect({ port: srv.port });
    const peer = await srv.next();
    const reading = stream.read(new Uint8Array(1024));
    // The read is pending (nothing was sent); prove the connection works both ways first.
    peer.write('x');
    t.is(await reading, 1);
    const pending = stream.read(new Uint8Array(1024));
    await echo.check(9); // a round trip elsewhere: the read is parked, waiting for data
    resetNow(peer);
    const err = await t.throwsAsync(pending);
    t.is(codeOf(err), 'ECONNRESET', String(err));
    t.is((err as { syscall?: string }).syscall, 'read');
    await echo.check(2);
    stream.close();
  } finally {
    echo.close();
    srv.close();
  }
});

test('a reset while a write is blocked on a full send buffer rejects it with ECONNRESET/EPIPE', async (t) => {
  const echo = await parallelEcho();
  const srv = await nodeServer();
  try {
    const stream = await TcpStream.connect({ port: srv.port });
    const peer = await srv.next();
    peer.pause(); // never reads: the kernel buffers fill and the write blocks
    // 64 MiB is far more than loopback's send + receive buffers hold.
    const big = Buffer.alloc(64 << 20, 7);
    let settled = false;
    const writing = stream.writeAll(big).finally(() => (settled = true));
    // Data reaches the peer's socket, then its receive buffer and our send buffer fill up.
    await new Promise<void>((resolve) => peer.once('readable', () => resolve()));
    await echo.check(3); // a real round trip on the other connection meanwhile
    t.false(settled, 'a 64 MiB write cannot complete against a peer that never reads');
    resetNow(peer);
    const err = await t.throwsAsync(writing);
    t.true(PEER_GONE.includes(codeOf(err) as string), String(err));
    t.is((err as { syscall?: string }).syscall, 'write');
    await echo.check(4);
    stream.close();
  } finally {
    echo.close();
    srv.close();
  }
});

test('a reset during a native copy rejects the copy with ECONNRESET/EPIPE', async (t) => {
  const echo = await parallelEcho();
  const srv = await nodeServer();
  try {
    // copy(from, to): `from` is a corio stream fed by node peer A, `to` writes to node peer B.
    const from = await TcpStream.connect({ port: srv.port });
    const peerA = await srv.next();
    const to = await TcpStream.connect({ port: srv.port });
    const peerB = await srv.next();
    const copying = copy(from, to);
    // Bytes flow A → corio → B: proves the copy runs.
    peerA.write(pattern(4096, 9));
    let got = 0;
    await new Promise<void>((resolve) => {
      const onData = (d: Buffer): void => {
        got += d.length;
        if (got >= 4096) {
          peerB.off('data', onData);
          resolve();
        }
      };
      peerB.on('data', onData);
    });
    t.is(got, 4096);
    resetNow(peerA); // the copy's read side is reset
    const err = await t.throwsAsync(copying);
    t.true(PEER_GONE.includes(codeOf(err) as string), String(err));
    await echo.check(5);

    // The same with the write side reset: B stops reading and resets while A keeps sending.
    const from2 = await TcpStream.connect({ port: srv.port });
    const peerA2 = await srv.next();
    const to2 = await TcpStream.connect({ port: srv.port });
    const peerB2 = await srv.next();
    const copying2 = copy(from2, to2);
    peerA2.write(pattern(1024, 3));
    await new Promise<void>((resolve) => peerB2.once('data', () => resolve()));
    resetNow(peerB2);
    // Keep feeding the copy so it writes into the reset connection.
    const feed = Buffer.alloc(64 * 1024, 1);
    let feeding = true;
    const feeder = (async () => {
      while (feeding && !peerA2.destroyed) {
        if (!peerA2.write(feed)) await new Promise((r) => peerA2.once('drain', r).once('close', r));
      }
    })();
    const err2 = await t.throwsAsync(copying2);
    feeding = false;
    t.true(PEER_GONE.includes(codeOf(err2) as string), String(err2));
    peerA2.destroy();
    await feeder;
    await echo.check(6);
    for (const s of [from, to, from2, to2]) s.close();
    peerB.destroy();
  } finally {
    echo.close();
    srv.close();
  }
});

test('a peer that closes without reading during a 64 MiB writeAll: EPIPE/ECONNRESET on that stream only', async (t) => {
  const echo = await parallelEcho();
  const listener = await TcpListener.bind({ port: 0 });
  try {
    // The writer is corio (server side); the peer is a node:net client that reads one chunk and
    // then closes with unread data in its receive queue (the kernel answers with a reset).
    const peer = net.connect(listener.localAddr.port, '127.0.0.1');
    const stream = await listener.accept();
    const big = pattern(64 << 20, 11);
    const writing = stream.writeAll(big);
    await new Promise<void>((resolve) => peer.once('data', () => resolve()));
    peer.pause();
    await echo.check(7); // other traffic meanwhile
    peer.destroy(); // close() with unread data: the peer's kernel resets the connection
    const err = await t.throwsAsync(writing);
    t.true(PEER_GONE.includes(codeOf(err) as string), String(err));
    // Later writes on that stream fail too; reads see the reset or end of stream.
    const again = await t.throwsAsync(stream.writeAll('more'));
    t.true(PEER_GONE.includes(codeOf(again) as string), String(again));
    await echo.check(8);
    stream.close();
  } finally {
    echo.close();
    listener.close();
  }
});
