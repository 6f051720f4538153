/**
 * The JS-thread fast path does not starve the event loop. A socket call that can complete at
 * once returns a settled promise, and awaiting one is a microtask: a loop of such calls never
 * gives Node's event loop a turn on its own. The binding's synchronous-completion budget
 * (README: "at most 64 operations in a row") sends the next call through the runtime, whose
 * completion comes back through the event loop, so timers and other I/O run. These tests run
 * loops whose every call finds the socket ready and check that a timer fires while they run.
 * The loops are bounded (they end by themselves if the timer never fires, and the test then
 * fails), and nothing is timed: the check is only that the timer ran before the loop ended.
 */

import test from 'ava';
import { UdpSocket } from '../src';
import { pair } from './fixtures/tcp-util';
import { timerFlag } from './fixtures/timer-flag';

test('a UDP send/receive loop that never waits still lets a timer run', async (t) => {
  await using rx = await UdpSocket.bind({ host: '127.0.0.1', port: 0 });
  await using tx = await UdpSocket.bind({ host: '127.0.0.1', port: 0 });
  const to = { address: rx.localAddr.address, port: rx.localAddr.port };
  const data = Buffer.alloc(32, 7);
  const buf = Buffer.alloc(64);
  const limit = 200_000;
  const timer = timerFlag();
  let sent = 0;
  let received = 0;
  // One datagram in flight at a time, so the receive buffer never overflows: every call finds
  // its socket ready, and each loop runs until the timer fired or the limit is reached.
  while (!timer.fired && sent < limit) {
    await tx.sendTo(data, to);
    sent++;
    const r = await rx.recvFrom(buf);
    t.is(r.bytes, data.length);
    received++;
  }
  t.true(timer.fired, `the timer did not run during ${sent} send/receive pairs`);
  t.is(received, sent);
});

test('a UDP batch loop that never waits still lets a timer run', async (t) => {
  await using rx = await UdpSocket.bind({ host: '127.0.0.1', port: 0 });
  await using tx = await UdpSocket.bind({ host: '127.0.0.1', port: 0 });
  const to = { address: rx.localAddr.address, port: rx.localAddr.port };
  const batch = Array.from({ length: 4 }, (_, i) => ({ data: Buffer.alloc(16, i), ...to }));
  const limit = 100_000;
  const timer = timerFlag();
  let rounds = 0;
  while (!timer.fired && rounds < limit) {
    t.is(await tx.sendMany(batch), batch.length);
    let got = 0;
    while (got < batch.length) got += (await rx.recvMany(batch.length - got)).length;
    rounds++;
  }
  t.true(timer.fired, `the timer did not run during ${rounds} batch rounds`);
});

test('a TCP read loop over buffered data still lets a timer run', async (t) => {
  const { client, server, listener } = await pair();
  listener.close();
  await using _client = client;
  await using _server = server;
  // 1 MiB sits in the socket buffers; 16-byte reads then always find data.
  const total = 1 << 20;
  const writing = client.writeAll(Buffer.alloc(total, 3));
  const buf = Buffer.alloc(16);
  let read = 0;
  // Wait until data is there, so the loop below starts on a ready socket.
  const first = await server.read(buf);
  read += first ?? 0;
  const timer = timerFlag();
  while (!timer.fired && read < total) {
    const n = await server.read(buf);
    if (n === null) break;
    read += n;
  }
  t.true(timer.fired, `the timer did not run during reads of ${read} of ${total} bytes`);
  // Drain the rest so the writer finishes, then close.
  while (read < total) {
    const n = await server.read(Buffer.alloc(65536));
    if (n === null) break;
    read += n;
  }
  await writing;
  t.is(read, total);
});

test('past the budget, a socket\'s calls still settle in call order (deferred ones before a later waiting one)', async (t) => {
  await using rx = await UdpSocket.bind({ host: '127.0.0.1', port: 0 });
  await using tx = await UdpSocket.bind({ host: '127.0.0.1', port: 0 });
  const to = { address: rx.localAddr.address, port: rx.localAddr.port };
  const queued = 150;
  // Loopback delivers during the send call: once each send settled, its datagram is queued.
  for (let i = 0; i < queued; i++) await tx.sendTo(Buffer.from([i]), to);
  const settled: number[] = [];
  const calls: Promise<unknown>[] = [];
  // All in one turn: the first receives complete at once (their promises settled at once,
  // then deferred past the budget); the last one finds nothing queued and waits on the runtime.
  for (let i = 0; i <= queued; i++) {
    calls.push(rx.recvFrom(Buffer.alloc(4)).then((r) => settled.push(i) && r));
  }
  await tx.sendTo(Buffer.from([queued]), to);
  const results = (await Promise.all(calls)) as { bytes: number }[];
  t.true(results.every((r) => r.bytes === 1));
  t.deepEqual(settled, Array.from({ length: queued + 1 }, (_, i) => i));
});
