/**
 * Audit of UDP, time and StreamMap edge cases: each test pins a behaviour the docs promise
 * that no other spec covered (or that was broken when the test was written).
 *
 * The UDP tests are meaningful with `CORIO_SYNC_BUDGET=0` too (no JS-thread fast path: every
 * `UdpSocket` call waits on the runtime, so a `connect()` really queues behind the sends called
 * before it); the last test reruns this file that way.
 */

import test from 'ava';
import { getEventListeners } from 'node:events';
import { UdpSocket } from '../src';
import { interval } from '../src/time';
import { StreamMap, StreamMapError } from '../src/stream';
import { rerunSpec } from './fixtures/run-fixture';
import { receiver, seqData } from './fixtures/udp-util';
import { isPending } from './fixtures/utils-helpers';
import { newNativeUdpSocket } from '../src/udp/native';

const fastPathOff = process.env.CORIO_SYNC_BUDGET === '0';
const code = (e: unknown): unknown => (e as { code?: unknown } | undefined)?.code;

/** Native `sendMany` arguments (layout in src/udp/native.ts) for `datas` to the connected peer. */
function toPeer(datas: Buffer[]): [Uint8Array, Uint8Array, string[]] {
  const meta = new Uint8Array(8 * datas.length);
  const v = new DataView(meta.buffer);
  datas.forEach((d, k) => v.setUint32(8 * k, d.byteLength, true)); // port 0, host index 0 ('')
  return [Buffer.concat(datas), meta, ['']];
}

// ---------------------------------------------------------------------------------------------
// UDP: close() while a connect() waits behind queued sends

test('native: close() while a connect waits behind a batch rejects what is pending with ERR_SOCKET_CLOSED', async (t) => {
  t.timeout(30_000);
  await using a = await receiver();
  await using b = await receiver();
  let caught = 0;
  // The batch holds the send lock while the JS thread queues the connect and the sends after
  // it, then closes; whether the close finds the connect still waiting depends on thread
  // scheduling, so rounds repeat until it did a few times.
  for (let round = 0; round < 50 && caught < 3; round++) {
    const h = newNativeUdpSocket();
    await h.bind('127.0.0.1', 0, undefined, 0);
    await h.connect('127.0.0.1', a.localAddr.port, 0);
    const ops: Promise<unknown>[] = [
      h.sendMany(...toPeer(Array.from({ length: 64 }, (_, k) => seqData(k, k % 2))), 0, 0),
      h.connect('127.0.0.1', b.localAddr.port, 0),
      h.send(seqData(1000), 0),
      h.sendMany(...toPeer([seqData(1001)]), 0, 0),
    ];
    h.close();
    const outcomes = await Promise.allSettled(ops);
    for (const o of outcomes) {
      if (o.status === 'rejected') t.is(code(o.reason), 'ERR_SOCKET_CLOSED', String(o.reason));
    }
    // Ops leave in call order: once one was rejected by the close, none after it ran.
    const firstClosed = outcomes.findIndex((o) => o.status === 'rejected');
    if (firstClosed >= 0) t.true(outcomes.slice(firstClosed).every((o) => o.status === 'rejected'));
    if (firstClosed >= 0 && firstClosed <= 1) caught++;
    await t.throwsAsync(h.connect('127.0.0.1', b.localAddr.port, 0), { message: /closed/i });
  }
  t.true(caught > 0, 'the close never caught a connect waiting for its turn');
});

test('UdpSocket: close() while connect() waits behind queued sends rejects it and the sends after it, never hangs', async (t) => {
  t.timeout(30_000);
  await using a = await receiver();
  await using b = await receiver();
  let caught = 0;
  for (let round = 0; round < 30; round++) {
    const tx = await UdpSocket.bind('127.0.0.1:0');
    const to = b.localAddr;
    const ops: Promise<unknown>[] = [
      tx.sendMany(Array.from({ length: 64 }, (_, k) => ({ data: seqData(k, k % 2), address: to.address, port: to.port }))),
      tx.sendTo(seqData(64), to),
      tx.connect(a.localAddr),
      tx.send(seqData(65)),
      tx.sendMany([{ data: seqData(66) }]),
    ];
    tx.close();
    const outcomes = await Promise.allSettled(ops);
    for (const o of outcomes) {
      if (o.status === 'rejected') t.is(code(o.reason), 'ERR_SOCKET_CLOSED', String(o.reason));
    }
    if (outcomes[2].status === 'rejected') caught++;
    // The socket stays closed and consistent: every later call rejects at once.
    await t.throwsAsync(tx.connect(a.localAddr), { code: 'ERR_SOCKET_CLOSED' });
    await t.throwsAsync(tx.send('x'), { code: 'ERR_SOCKET_CLOSED' });
    // (A TypeError when the close came before the connect took effect, else a rejection.)
    await t.throwsAsync(async () => tx.sendMany([{ data: 'x' }]));
  }
  // Without the fast path every call waits on the runtime: the connect queues behind the
  // batch, and the close usually finds it still waiting (runtime workers may also finish the
  // batch and the connect before the JS thread gets to close()).
  if (fastPathOff) t.true(caught > 0, 'the close never caught a queued connect');
  else t.pass();
});

test('UdpSocket: a connect cancelled while queued behind sends removes its abort listener', async (t) => {
  await using a = await receiver();
  await using tx = await UdpSocket.bind('127.0.0.1:0');
  const ac = new AbortController();
  for (let i = 0; i < 20; i++) {
    const sends = [tx.sendTo(seqData(i), a.localAddr), tx.connect(a.localAddr, { signal: ac.signal }), tx.send(seqData(i))];
    await Promise.all(sends);
  }
  t.is(getEventListeners(ac.signal, 'abort').length, 0);
});

// ---------------------------------------------------------------------------------------------
// UDP: localAddr after connect()

test('UdpSocket: localAddr read before connect() is refreshed by it (as getsockname and node:dgram)', async (t) => {
  await using peer = await UdpSocket.bind('127.0.0.1:0');
  await using s = await UdpSocket.bind('0.0.0.0:0');
  t.is(s.localAddr.address, '0.0.0.0');
  const port = s.localAddr.port;
  await s.connect(peer.localAddr);
  t.deepEqual(s.localAddr, { address: '127.0.0.1', port, family: 'IPv4' });
});

// ---------------------------------------------------------------------------------------------
// UDP: the async iterator's return() closes the socket at once

test('UdpSocket: iterator return() while next() waits closes the socket and settles both at once', async (t) => {
  t.timeout(10_000);
  const s = await UdpSocket.bind('127.0.0.1:0');
  const it = s[Symbol.asyncIterator]();
  const pending = it.next();
  t.true(await isPending(pending));
  t.deepEqual(await it.return(undefined), { done: true, value: undefined });
  t.true(s.closed);
  t.deepEqual(await pending, { done: true, value: undefined });
});

test('UdpSocket: iterator return() before the first next() closes the socket', async (t) => {
  const s = await UdpSocket.bind('127.0.0.1:0');
  const it = s[Symbol.asyncIterator]();
  await it.return(undefined);
  t.true(s.closed);
  t.deepEqual(await it.next(), { done: true, value: undefined });
});

test('StreamMap.close() ends UdpSocket members, pulled or not (no receive left holding the loop)', async (t) => {
  t.timeout(10_000);
  const pulled = await UdpSocket.bind('127.0.0.1:0');
  const idle = await UdpSocket.bind('127.0.0.1:0');
  const m = new StreamMap<string, unknown>();
  m.insert('pulled', pulled);
  const waiting = m.next();
  t.true(await isPending(waiting));
  m.insert('idle', idle);
  await m.close();
  t.deepEqual(await waiting, { done: true, value: undefined });
  t.true(pulled.closed, 'the member with a receive in flight was left open');
  t.true(idle.closed, 'the member never pulled was left open');
});

// ---------------------------------------------------------------------------------------------
// time: interval ticks cancelled while queued behind another tick

test('interval: a tick cancelled while it waits behind another tick rejects at once', async (t) => {
  t.timeout(10_000);
  const iv = interval(60_000);
  await iv.tick();
  const first = iv.tick();
  const ac = new AbortController();
  const second = iv.tick({ signal: ac.signal });
  t.true(await isPending(second));
  ac.abort('stop');
  const err = await t.throwsAsync(second, { name: 'AbortError' });
  t.is((err as Error & { cause?: unknown }).cause, 'stop');
  t.is(getEventListeners(ac.signal, 'abort').length, 0);
  // The schedule and the tick before it are untouched; later ticks still queue behind it.
  t.true(await isPending(first));
  const third = iv.tick();
  t.true(await isPending(third));
  iv.close();
  await t.throwsAsync(first, { code: 'ERR_INTERVAL_CLOSED' });
  await t.throwsAsync(third, { code: 'ERR_INTERVAL_CLOSED' });
});

test('interval: a tick with an already-aborted signal rejects at once, also behind a pending tick', async (t) => {
  t.timeout(10_000);
  const iv = interval(60_000);
  await iv.tick();
  const first = iv.tick();
  await t.throwsAsync(iv.tick({ signal: AbortSignal.abort() }), { name: 'AbortError' });
  t.true(await isPending(first));
  iv.close();
  await t.throwsAsync(first, { code: 'ERR_INTERVAL_CLOSED' });
});

test('interval: a queued tick that completes removes its abort listener', async (t) => {
  const iv = interval(1);
  const ac = new AbortController();
  const ticks = Array.from({ length: 5 }, () => iv.tick({ signal: ac.signal }));
  await Promise.all(ticks);
  iv.close();
  t.is(getEventListeners(ac.signal, 'abort').length, 0);
});

// ---------------------------------------------------------------------------------------------
// StreamMap: a member that breaks the iterator protocol

test('StreamMap: a member whose next() resolves a non-object surfaces as StreamMapError, no hang, no unhandled rejection', async (t) => {
  t.timeout(10_000);
  for (const bad of [undefined, null, 42, 'x']) {
    const broken: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({ next: async () => bad as unknown as IteratorResult<number> }),
    };
    const m = new StreamMap<string, number>();
    m.insert('ok', (async function* () {
      yield 1;
    })());
    m.insert('bad', broken);
    const got: unknown[] = [];
    let error: unknown;
    for (;;) {
      try {
        const r = await m.next();
        if (r.done) break;
        got.push(r.value);
      } catch (err) {
        error = err;
      }
    }
    t.true(error instanceof StreamMapError, String(error));
    t.is((error as StreamMapError).key, 'bad');
    t.true((error as Error).cause instanceof TypeError);
    t.deepEqual(got, [['ok', 1]]);
    t.false(m.has('bad'));
  }
});

// Serial: serial tests run before the concurrent ones, so this rerun (spawnSync, which blocks
// this process's event loop) does not hold up other tests' timers.
test.serial('this file passes with CORIO_SYNC_BUDGET=0 too (every UDP call through the waiting path)', (t) => {
  if (fastPathOff) {
    t.pass('already the run without the fast path');
    return;
  }
  const r = rerunSpec('__test__/audit-udp-time.spec.ts', { CORIO_SYNC_BUDGET: '0' });
  t.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
});
