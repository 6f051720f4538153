/**
 * UDP send and receive order: the sends of one socket leave in call order, also those that
 * have to wait (native operations on the runtime), as with node:dgram; and receives that wait
 * are served in call order, each datagram to exactly one of them.
 *
 * Sends on loopback almost never have to wait, so the tests force the waiting path in two
 * ways: the native tests call the binding's waiting entry points (`send`, `sendTo`,
 * `sendMany`) directly, and the `UdpSocket` tests are meaningful with `CORIO_SYNC_BUDGET=0`,
 * which turns the JS-thread fast path off (the last test reruns this file that way, and a
 * metrics check there proves the sends went through the runtime). Sends go out in rounds of
 * `ROUND` issued without awaiting, each received before the next round starts, so the
 * receiver's buffer holds a round even where it is capped at Linux's default `rmem_max`
 * (212,992 bytes): no datagram is dropped, and loopback then delivers them in the order sent.
 *
 * Receives need no such forcing: receives issued while nothing is queued all wait (the fast
 * path stays off behind the first), and the datagrams sent after them arrive while they wait,
 * and runtime workers serve the waiting receivers. Receivers wait in rounds of `ROUND` as well.
 *
 * BSD and macOS refuse a destination address on a connected UDP socket (`EISCONN`), so sends
 * with an address go through an unconnected socket there; mixing both on one socket is tested
 * on Linux only.
 */

import test from 'ava';
import { runtime, UdpSocket } from '../src';
import { rerunSpec } from './fixtures/run-fixture';
import { receiver, seqData } from './fixtures/udp-util';
import { native, nextOpId } from '../src/native';
import { NativeUdpSocket, newNativeUdpSocket } from '../src/udp/native';

/** Sends per test. */
const COUNT = 2048;
/** Sends issued at once, without awaiting, before they are received. */
const ROUND = 128;
const fastPathOff = process.env.CORIO_SYNC_BUDGET === '0';
/** Linux accepts a destination address on a connected UDP socket; BSD and macOS do not. */
const addressOnConnected = process.platform === 'linux';

/** Receives until `done()`, appending the sequence numbers to `seqs` in arrival order. */
async function collectInto(rx: UdpSocket, seqs: number[], done: () => boolean): Promise<number[]> {
  while (!done()) {
    for (const d of await rx.recvMany(256)) {
      seqs.push(Buffer.from(d.data.buffer, d.data.byteOffset, d.data.byteLength).readUInt32LE(0));
    }
  }
  return seqs;
}

/** The first index where `got` leaves increasing order, as a message; `''` when in order. */
function disorder(got: number[]): string {
  for (let i = 1; i < got.length; i++) {
    if (got[i] <= got[i - 1]) return `datagram ${got[i]} arrived right after ${got[i - 1]} (position ${i})`;
  }
  return '';
}

/** A native socket bound on loopback, connected to `port` when `connect` is true. */
async function nativeSender(port: number, connect: boolean): Promise<NativeUdpSocket> {
  const h = newNativeUdpSocket();
  await h.bind('127.0.0.1', 0, undefined, 0);
  if (connect) await h.connect('127.0.0.1', port, 0);
  return h;
}

/**
 * Issues `COUNT` sends in rounds of `ROUND` (`send(i)` starts send number `i`, without
 * awaiting); each round is received before the next. Returns the sends' results and the
 * sequence numbers in arrival order.
 */
async function sendInRounds<T>(rx: UdpSocket, send: (i: number) => Promise<T>): Promise<{ results: T[]; got: number[] }> {
  const results: T[] = [];
  const got: number[] = [];
  for (let start = 0; start < COUNT; start += ROUND) {
    const sends: Promise<T>[] = [];
    for (let i = start; i < start + ROUND; i++) sends.push(send(i));
    const received = collectInto(rx, got, () => got.length >= start + ROUND);
    results.push(...(await Promise.all(sends)));
    await received;
  }
  return { results, got };
}

/**
 * Arguments of the native `sendMany` (layout in src/udp/native.ts) for `datas`: to
 * `127.0.0.1:port`, or to the connected peer when `port` is omitted.
 */
function nativeBatch(datas: Buffer[], port?: number): [Uint8Array, Uint8Array, string[]] {
  const meta = new Uint8Array(8 * datas.length);
  const v = new DataView(meta.buffer);
  datas.forEach((d, k) => {
    v.setUint32(8 * k, d.byteLength, true);
    v.setUint16(8 * k + 4, port ?? 0, true); // host index (bytes 6..8) 0
  });
  return [Buffer.concat(datas), meta, [port === undefined ? '' : '127.0.0.1']];
}

/**
 * The datagrams of a batch that keeps the send lock for a while (sizes vary: no segmentation);
 * small enough for a receive buffer capped at Linux's default `rmem_max`.
 */
const BATCH = Array.from({ length: 256 }, (_, k) => k);

type Kind = 'send' | 'sendTo' | 'sendMany' | 'mixed';
const kinds: Kind[] = ['send', 'sendTo', 'sendMany', 'mixed'];
const kindOf = (kind: Kind, i: number): Exclude<Kind, 'mixed'> =>
  kind === 'mixed' ? (['send', 'sendTo', 'sendMany'] as const)[i % 3] : kind;

for (const kind of kinds) {
  // `send` needs a connected socket, `sendTo` an address: both on one socket is Linux's.
  const connect = kind === 'send' || (kind === 'mixed' && addressOnConnected);
  const title = `native waiting sends leave in call order: ${COUNT} × ${kind}`;
  (kind === 'mixed' && !addressOnConnected ? test.skip : test)(title, async (t) => {
    await using rx = await receiver();
    const port = rx.localAddr.port;
    const h = await nativeSender(port, connect);
    const { results, got } = await sendInRounds(rx, (i) => {
      const data = seqData(i);
      switch (kindOf(kind, i)) {
        case 'send':
          return h.send(data, 0);
        case 'sendTo':
          return h.sendTo(data, '127.0.0.1', port, 0);
        case 'sendMany': {
          // On a connected socket, every other datagram goes to the peer without an address.
          const [payload, meta, hosts] = nativeBatch([data], connect && i % 2 === 0 ? undefined : port);
          return h.sendMany(payload, meta, hosts, 0, 0);
        }
      }
    });
    t.true(results.every((n, i) => n === (kindOf(kind, i) === 'sendMany' ? 1 : 8)));
    t.is(got.length, COUNT);
    t.is(disorder(got), '');
    h.close();
  });
}

test('a native waiting send cancelled while queued does not hold up the sends after it', async (t) => {
  await using rx = await receiver();
  const port = rx.localAddr.port;
  const h = await nativeSender(port, true);
  const got: number[] = [];
  let caught = 0;
  // The first send of a round is a batch, which keeps the send lock while the JS thread
  // queues and cancels the second; the third must still go out. Whether the cancel reaches the
  // second before its turn depends on thread scheduling, so rounds repeat until one did
  // (almost always the first).
  for (let round = 0, next = 0; round < 50 && caught === 0; round++) {
    const first = BATCH.map(() => next++);
    const [b, c] = [next++, next++];
    const id = nextOpId();
    const [payload, meta, hosts] = nativeBatch(first.map((i, k) => seqData(i, k % 2)));
    const sends = [h.sendMany(payload, meta, hosts, 0, 0), h.send(seqData(b), id), h.send(seqData(c), 0)];
    native().cancel(id);
    const [ra, rb, rc] = await Promise.allSettled(sends);
    t.deepEqual(ra, { status: 'fulfilled', value: BATCH.length });
    t.is(rc.status, 'fulfilled', 'the send after the cancelled one went out');
    if (rb.status === 'rejected') {
      t.is((rb.reason as { code?: string }).code, 'ABORT_ERR');
      caught++;
    }
    await collectInto(rx, got, () => got.includes(c));
    if (rb.status === 'fulfilled') t.true(got.includes(b));
  }
  t.true(caught > 0, 'no cancel reached a waiting send');
  t.is(disorder(got), '');
  h.close();
});

// Serial: the metrics check counts this thread's completions, which concurrent tests would add to.
test.serial(`UdpSocket sends (send, sendTo, sendMany mixed) leave in call order: ${COUNT} in rounds of ${ROUND}`, async (t) => {
  await using rx = await receiver();
  await using tx = await UdpSocket.bind('127.0.0.1:0');
  const to = rx.localAddr;
  // Linux: `send`, `sendTo` and `sendMany` to the peer mixed on a connected socket; elsewhere
  // `sendTo` and `sendMany` with an address on an unconnected one.
  if (addressOnConnected) await tx.connect(to);
  const kind = (i: number): number => (addressOnConnected ? i % 3 : 1 + (i % 2));
  const before = runtime.metrics().completions;
  const { results, got } = await sendInRounds(rx, (i) => {
    const data = seqData(i);
    switch (kind(i)) {
      case 0:
        return tx.send(data);
      case 1:
        return tx.sendTo(data, to);
      default:
        return tx.sendMany([addressOnConnected ? { data } : { data, address: to.address, port: to.port }]);
    }
  });
  t.true(results.every((r, i) => r === (kind(i) === 2 ? 1 : 8)));
  if (fastPathOff) {
    // Every send waited on the runtime (none completed on the JS thread).
    t.true(runtime.metrics().completions - before >= COUNT);
  }
  t.is(got.length, COUNT);
  t.is(disorder(got), '');
});

test.serial('close while sends wait: each resolves or rejects with ERR_SOCKET_CLOSED, later ones reject at once', async (t) => {
  await using rx = await receiver();
  const got: number[] = [];
  let caught = 0;
  // Without the fast path, the batch keeps the send lock while the JS thread queues two more
  // sends and closes the socket; rounds repeat until the close caught one of them waiting
  // (almost always the first). With the fast path on, everything completes at once (one round).
  for (let round = 0, next = 0; round < 50 && (caught === 0 || !fastPathOff); round++) {
    const tx = await UdpSocket.bind('127.0.0.1:0');
    await tx.connect(rx.localAddr);
    const first = BATCH.map(() => next++);
    const [b, c] = [next++, next++];
    const sends = [
      tx.sendMany(first.map((i, k) => ({ data: seqData(i, k % 2) }))),
      tx.send(seqData(b)),
      tx.sendMany([{ data: seqData(c) }]),
    ];
    tx.close();
    const outcomes = await Promise.allSettled(sends);
    const sent: number[] = [];
    outcomes.forEach((o, k) => {
      if (o.status === 'fulfilled') {
        sent.push(...(k === 0 ? first : [k === 1 ? b : c]));
      } else {
        t.is((o.reason as { code?: string }).code, 'ERR_SOCKET_CLOSED');
        caught++;
      }
    });
    await t.throwsAsync(tx.send('late'), { code: 'ERR_SOCKET_CLOSED' });
    await t.throwsAsync(tx.sendTo('late', rx.localAddr), { code: 'ERR_SOCKET_CLOSED' });
    await t.throwsAsync(tx.sendMany([{ data: 'late' }]), { code: 'ERR_SOCKET_CLOSED' });
    // Every send that resolved left (one that left just before the close may still have been
    // rejected, so more may arrive).
    const have = new Set<number>();
    await collectInto(rx, got, () => {
      for (let i = have.size; i < got.length; i++) have.add(got[i]);
      return sent.every((i) => have.has(i));
    });
    if (!fastPathOff) break;
  }
  if (fastPathOff) t.true(caught > 0, 'the close caught no waiting send');
  t.is(disorder(got), '');
});

/** A receive of one datagram issued on `rx` by method `k % 3`; resolves its sequence number. */
function receiveOne(rx: UdpSocket, k: number, signal?: AbortSignal): Promise<number> {
  const opts = signal === undefined ? undefined : { signal };
  const buf = Buffer.alloc(64);
  switch (k % 3) {
    case 0:
      return rx.recvFrom(buf, opts).then((r) => {
        if (!seqSized(r.bytes)) throw new Error(`recvFrom got ${r.bytes} bytes`);
        return buf.readUInt32LE(0);
      });
    case 1:
      return rx.recv(buf, opts).then((n) => {
        if (!seqSized(n)) throw new Error(`recv got ${n} bytes`);
        return buf.readUInt32LE(0);
      });
    default:
      return rx.recvMany(1, opts).then((ds) => {
        if (ds.length !== 1) throw new Error(`recvMany(1) got ${ds.length} datagrams`);
        const d = ds[0].data;
        return Buffer.from(d.buffer, d.byteOffset, d.byteLength).readUInt32LE(0);
      });
  }
}

/**
 * Sends sequence numbers `seqs` from `tx` to its peer in one `sendMany` (one system call, so
 * loopback keeps their order even when the runtime sends it): `equalSizes` lets Linux send and
 * receive the run coalesced (UDP GSO/GRO); otherwise sizes alternate between 8 and 9 bytes,
 * which keeps every datagram separate.
 */
async function sendSeqs(tx: UdpSocket, seqs: number[], equalSizes: boolean): Promise<void> {
  const sent = await tx.sendMany(
    seqs.map((i, k) => ({ data: seqData(i, equalSizes ? 0 : k % 2) })),
  );
  if (sent !== seqs.length) throw new Error(`sent ${sent} of ${seqs.length} datagrams`);
}

/** A datagram of `sendSeqs`: 8 or 9 bytes. */
const seqSized = (n: number): boolean => n === 8 || n === 9;

/** The first receiver that got another datagram than its own, as a message; `''` when none. */
function misdelivery(got: number[], first: number): string {
  for (let k = 0; k < got.length; k++) {
    if (got[k] !== first + k) return `receiver ${first + k} got datagram ${got[k]}`;
  }
  return '';
}

test(`waiting receives (recvFrom, recv, recvMany(1) mixed) are served in call order: ${COUNT} in rounds of ${ROUND}`, async (t) => {
  await using rx = await receiver();
  await using tx = await UdpSocket.bind('127.0.0.1:0');
  await tx.connect(rx.localAddr);
  let wrong = '';
  for (let start = 0, round = 0; start < COUNT; start += ROUND, round++) {
    // Every receive of the round waits (nothing is queued yet; the fast path stays off behind
    // the first), then the round's datagrams arrive together (a run Linux may coalesce, or
    // separate datagrams) while runtime workers serve the waiting receivers.
    const seqs = Array.from({ length: ROUND }, (_, k) => start + k);
    const receives = seqs.map((i) => receiveOne(rx, i));
    await sendSeqs(tx, seqs, round % 2 === 0);
    const got = await Promise.all(receives);
    wrong ||= misdelivery(got, start);
  }
  t.is(wrong, '');
});

test(`waiting receives of every kind (recvFrom, recv, recvMany(1) mixed) settle in call order: ${COUNT} in rounds of ${ROUND}`, async (t) => {
  await using rx = await receiver();
  await using tx = await UdpSocket.bind('127.0.0.1:0');
  await tx.connect(rx.localAddr);
  const settled: number[] = [];
  for (let start = 0, round = 0; start < COUNT; start += ROUND, round++) {
    const seqs = Array.from({ length: ROUND }, (_, k) => start + k);
    // As above; each receive's turn passes to the next only once its completion is queued, and
    // the kinds' results are shaped before their promises settle (no extra `.then` for one
    // kind), so their promises settle in call order too.
    const receives = seqs.map((i) => receiveOne(rx, i).then(() => void settled.push(i)));
    await sendSeqs(tx, seqs, round % 2 === 0);
    await Promise.all(receives);
  }
  t.is(misdelivery(settled, 0), '');
});

test('a cancelled waiting receive takes no datagram and does not hold up the receives after it', async (t) => {
  await using rx = await receiver();
  await using tx = await UdpSocket.bind('127.0.0.1:0');
  await tx.connect(rx.localAddr);
  for (let round = 0, next = 0; round < 3 * 8; round++) {
    // Five receivers; the one at `victim` (the first, holding the receive turn, or one queued
    // behind it) is cancelled before any datagram is sent; the other four get the four sent,
    // in call order.
    const victim = round % 5;
    const ac = new AbortController();
    const receives = [0, 1, 2, 3, 4].map((k) => receiveOne(rx, round + k, k === victim ? ac.signal : undefined));
    ac.abort();
    const seqs = [next, next + 1, next + 2, next + 3];
    next += 4;
    await sendSeqs(tx, seqs, round % 2 === 0);
    const outcomes = await Promise.allSettled(receives);
    const cancelled = outcomes[victim];
    t.is(cancelled.status, 'rejected');
    if (cancelled.status === 'rejected') t.is((cancelled.reason as { code?: string }).code, 'ABORT_ERR');
    const got = outcomes.filter((_, k) => k !== victim).map((o) => (o.status === 'fulfilled' ? o.value : -1));
    t.deepEqual(got, seqs);
  }
});

test('a native waiting receive cancelled by op id takes no datagram and does not hold up the next', async (t) => {
  // The native receiver is unconnected (`nativeSender` binds it only).
  const h = await nativeSender(0, false);
  await using tx = await UdpSocket.bind('127.0.0.1:0');
  await tx.connect({ address: '127.0.0.1', port: h.localAddr().port });
  for (let round = 0, next = 0; round < 8; round++) {
    const id = nextOpId();
    const first = round % 2 === 0 ? h.recvFrom(64, 0) : h.recvMany(1, 0);
    const cancelled = round % 2 === 0 ? h.recvMany(1, id) : h.recvFrom(64, id);
    const last = round % 2 === 0 ? h.recvFrom(64, 0) : h.recvMany(1, 0);
    native().cancel(id);
    const seqs = [next, next + 1];
    next += 2;
    await sendSeqs(tx, seqs, round % 4 < 2);
    const [a, b, c] = await Promise.allSettled([first, cancelled, last]);
    t.is(b.status, 'rejected');
    if (b.status === 'rejected') t.is((b.reason as { code?: string }).code, 'ABORT_ERR');
    const seqOf = (o: PromiseSettledResult<number>, many: boolean): number => {
      if (o.status !== 'fulfilled') return -1;
      if (many) {
        const packed = h.takeMany(o.value);
        t.is(packed.readUInt32LE(0), 1, 'recvMany(1) got one datagram');
        return packed.readUInt32LE(4 + 24 + packed[4 + 7]);
      }
      const buf = Buffer.alloc(64);
      t.true(seqSized(h.takeRecv(o.value, buf).bytes));
      return buf.readUInt32LE(0);
    };
    t.deepEqual([seqOf(a, round % 2 === 1), seqOf(c, round % 2 === 1)], seqs);
  }
  h.close();
});

const codeOf = (e: unknown): unknown => (e as { code?: unknown } | undefined)?.code;

/** The sequence numbers of a packed native batch (`takeMany`; layout in src/udp/native.ts). */
function seqsOfPacked(b: Buffer): number[] {
  const out: number[] = [];
  for (let k = 0, o = 4, n = b.readUInt32LE(0); k < n; k++) {
    const len = b.readUInt32LE(o);
    o += 24 + b[o + 7];
    out.push(b.readUInt32LE(o));
    o += len;
  }
  return out;
}

test('a panic in a waiting op releases its turn: the ops queued behind it, and later ones, complete', async (t) => {
  // A turn left locked would hang the ops behind it: fail with a message instead.
  t.timeout(30_000, 'an op queued behind a panic never completed: the turn stayed locked');
  await using rx = await receiver();
  // Send turn. The panicking op takes the free send lock at call time (its first poll runs
  // on the JS thread), so the sends called next queue behind it; it panics on the runtime.
  const h = await nativeSender(rx.localAddr.port, true);
  const panicked = h.__panicInTurnForTest(false);
  const queued = [h.send(seqData(0), 0), h.sendMany(...nativeBatch([seqData(1)]), 0, 0)];
  t.is(codeOf(await t.throwsAsync(panicked)), 'ERR_NATIVE_PANIC');
  t.deepEqual(await Promise.all(queued), [8, 1]);
  t.is(await h.send(seqData(2), 0), 8, 'a send called after the panic');
  const sent: number[] = [];
  t.deepEqual(await collectInto(rx, sent, () => sent.length >= 3), [0, 1, 2]);
  h.close();

  // Receive turn, the same way.
  const hr = await nativeSender(0, false);
  await using tx = await UdpSocket.bind('127.0.0.1:0');
  await tx.connect({ address: '127.0.0.1', port: hr.localAddr().port });
  const panickedRecv = hr.__panicInTurnForTest(true);
  const first = hr.recvFrom(64, 0);
  const second = hr.recvMany(4, 0);
  t.is(codeOf(await t.throwsAsync(panickedRecv)), 'ERR_NATIVE_PANIC');
  await sendSeqs(tx, [10, 11], false);
  const buf = Buffer.alloc(64);
  t.true(seqSized(hr.takeRecv(await first, buf).bytes));
  t.is(buf.readUInt32LE(0), 10);
  t.deepEqual(seqsOfPacked(hr.takeMany(await second)), [11]);
  const later = hr.recvFrom(64, 0);
  await sendSeqs(tx, [12], false);
  t.true(seqSized(hr.takeRecv(await later, buf).bytes));
  t.is(buf.readUInt32LE(0), 12, 'a receive called after the panic');
  hr.close();
});

test('waiting recvMany(max > 1) mixed with recvFrom, recv and recvMany(1): served in call order, nothing lost', async (t) => {
  await using rx = await receiver();
  await using tx = await UdpSocket.bind('127.0.0.1:0');
  await tx.connect(rx.localAddr);
  let wrong = '';
  for (let round = 0, next = 0; round < 48; round++) {
    // Twelve receivers, all waiting (nothing is queued): every fourth a recvMany(2..6), the
    // others one of recvFrom, recv, recvMany(1), in an order that shifts per round.
    const caps: number[] = [];
    const receives: Promise<number[]>[] = [];
    for (let k = 0; k < 12; k++) {
      const kind = (k + round) % 4;
      if (kind === 3) {
        const max = 2 + ((k + round) % 5);
        caps.push(max);
        receives.push(
          rx.recvMany(max).then((ds) => {
            if (ds.length < 1 || ds.length > max) throw new Error(`recvMany(${max}) got ${ds.length} datagrams`);
            return ds.map((d) => Buffer.from(d.data.buffer, d.data.byteOffset, d.data.byteLength).readUInt32LE(0));
          }),
        );
      } else {
        caps.push(1);
        receives.push(receiveOne(rx, kind).then((i) => [i]));
      }
    }
    // As many datagrams as the receivers could take in all: each gets at least one (those
    // before it take at most their `max`), and what a batch left is still queued.
    const total = caps.reduce((a, b) => a + b, 0);
    const seqs = Array.from({ length: total }, (_, k) => next + k);
    next += total;
    await sendSeqs(tx, seqs, round % 2 === 0);
    const got = (await Promise.all(receives)).flat();
    await collectInto(rx, got, () => got.length >= total);
    wrong ||= misdelivery(got, seqs[0]);
  }
  t.is(wrong, '');
});

test('close with receives waiting rejects every one with ERR_SOCKET_CLOSED', async (t) => {
  const rx = await receiver();
  const receives = Array.from({ length: 3 * 20 }, (_, k) => receiveOne(rx, k));
  rx.close();
  const outcomes = await Promise.allSettled(receives);
  for (const o of outcomes) {
    t.is(o.status, 'rejected');
    if (o.status === 'rejected') t.is((o.reason as { code?: string }).code, 'ERR_SOCKET_CLOSED');
  }
  await t.throwsAsync(rx.recvFrom(Buffer.alloc(8)), { code: 'ERR_SOCKET_CLOSED' });
  await t.throwsAsync(rx.recvMany(1), { code: 'ERR_SOCKET_CLOSED' });
});

test('with CORIO_SYNC_BUDGET=0 the JS-thread try path never sends (every send waits on the runtime)', async (t) => {
  await using rx = await receiver();
  const h = await nativeSender(rx.localAddr.port, true);
  const u = await nativeSender(rx.localAddr.port, false);
  const expected = fastPathOff ? -1 : 8;
  t.is(h.trySend(seqData(0)), expected);
  t.is(u.trySendTo(seqData(1), '127.0.0.1', rx.localAddr.port), expected);
  h.close();
  u.close();
});

// Serial: serial tests run before the concurrent ones, so this rerun (spawnSync, which blocks
// this process's event loop) does not hold up other tests' timers.
test.serial('this file passes with CORIO_SYNC_BUDGET=0 too (every send and receive through the waiting path)', (t) => {
  if (fastPathOff) {
    t.pass('already the run without the fast path');
    return;
  }
  const r = rerunSpec('__test__/udp-order.spec.ts', { CORIO_SYNC_BUDGET: '0' });
  t.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
});
