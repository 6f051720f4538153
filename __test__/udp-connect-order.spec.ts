/**
 * UDP `connect()` keeps its place in call order among the sends of its socket, as node:dgram
 * queues the sends issued while it connects: a send called before `connect()` leaves before
 * it (to the old destination), a send called after it — also one called without awaiting the
 * connect — leaves after it, to the new peer. Receives are not ordered against `connect()`
 * (a receive waiting when it is called does not hold it up).
 *
 * Sends on loopback seldom wait, so the native test calls the binding's waiting entry points
 * directly, and the file reruns itself with `CORIO_SYNC_BUDGET=0` (no JS-thread fast path: every
 * `UdpSocket` call goes through the runtime). A batch of datagrams first in each round keeps the
 * send lock while the JS thread issues the rest, so a connect that did not queue would overtake
 * it. Every send goes to the connected peer without an address, or to an unconnected socket
 * with one: BSD and macOS refuse an address on a connected socket (`EISCONN`).
 */

import test from 'ava';
import { UdpSocket } from '../src';
import { rerunSpec } from './fixtures/run-fixture';
import { receiver, seqData } from './fixtures/udp-util';
import { native, nextOpId } from '../src/native';
import { newNativeUdpSocket } from '../src/udp/native';

const fastPathOff = process.env.CORIO_SYNC_BUDGET === '0';
/** Rounds per test (each on a fresh sending socket). */
const ROUNDS = 30;
/** Datagrams of the batch that opens each round (sizes alternate: never segmented). */
const BATCH = 64;

/**
 * Receives on every socket of `rxs` until `total` datagrams arrived in all, appending each
 * socket's sequence numbers to its list; then cancels the receives still waiting (a cancelled
 * receive takes no datagram).
 */
async function collect(rxs: UdpSocket[], got: number[][], total: number): Promise<void> {
  const ac = new AbortController();
  const count = (): number => got.reduce((n, g) => n + g.length, 0);
  await Promise.all(
    rxs.map(async (rx, k) => {
      while (count() < total) {
        let batch;
        try {
          batch = await rx.recvMany(256, { signal: ac.signal });
        } catch (err) {
          if ((err as { code?: string }).code === 'ABORT_ERR') return;
          throw err;
        }
        for (const d of batch) got[k].push(Buffer.from(d.data.buffer, d.data.byteOffset, d.data.byteLength).readUInt32LE(0));
      }
      ac.abort();
    }),
  );
}

/** Native `sendMany` arguments (layout in src/udp/native.ts) for `datas` to the connected peer. */
function toPeer(datas: Buffer[]): [Uint8Array, Uint8Array, string[]] {
  const meta = new Uint8Array(8 * datas.length);
  const v = new DataView(meta.buffer);
  datas.forEach((d, k) => v.setUint32(8 * k, d.byteLength, true)); // port 0, host index 0 ('')
  return [Buffer.concat(datas), meta, ['']];
}

/** `''` when `got` holds exactly `want` in that order, else where they first differ. */
function diff(name: string, got: number[], want: number[]): string {
  const n = Math.max(got.length, want.length);
  for (let i = 0; i < n; i++) {
    if (got[i] !== want[i]) {
      return `${name}: datagram ${i} of ${got.length} is ${got[i]}, expected ${want[i]} of ${want.length} (got ${got.slice(Math.max(0, i - 2), i + 3).join(',')}, …)`;
    }
  }
  return '';
}

test('native: connect() waits for the sends called before it, and the sends called after it wait for it', async (t) => {
  await using a = await receiver();
  await using b = await receiver();
  const got: number[][] = [[], []];
  const want: number[][] = [[], []];
  const failures: string[] = [];
  for (let round = 0, next = 0; round < ROUNDS; round++) {
    const h = newNativeUdpSocket();
    await h.bind('127.0.0.1', 0, undefined, 0);
    await h.connect('127.0.0.1', a.localAddr.port, 0);
    const first = Array.from({ length: BATCH }, () => next++);
    const [x, y, z] = [next++, next++, next++];
    const ops: Promise<unknown>[] = [
      h.sendMany(...toPeer(first.map((i, k) => seqData(i, k % 2))), 0, 0),
      h.send(seqData(x), 0),
      h.connect('127.0.0.1', b.localAddr.port, 0),
      h.send(seqData(y), 0),
      h.sendMany(...toPeer([seqData(z)]), 0, 0),
    ];
    const outcomes = await Promise.allSettled(ops);
    outcomes.forEach((o, k) => {
      if (o.status === 'rejected') failures.push(`round ${round}, op ${k}: ${String(o.reason)}`);
    });
    // A batch may be sent in part (a full send buffer, ENOBUFS on macOS): it resolves how many
    // left, and only those are expected.
    const batchSent = (k: number, n: number): number => {
      const o = outcomes[k];
      return o.status === 'fulfilled' ? (o.value as number) : n;
    };
    const firstSent = batchSent(0, BATCH);
    want[0].push(...first.slice(0, firstSent), x);
    want[1].push(y, ...(batchSent(4, 1) === 1 ? [z] : []));
    // Every datagram of a fulfilled send arrives at one of the two (op 2 is the connect).
    const sizes = [firstSent, 1, 0, 1, batchSent(4, 1)];
    const sent = outcomes.reduce((n, o, k) => n + (o.status === 'fulfilled' ? sizes[k] : 0), 0);
    await collect([a, b], got, got[0].length + got[1].length + sent);
    h.close();
  }
  t.deepEqual(failures, []);
  t.is(diff('the old peer', got[0], want[0]), '');
  t.is(diff('the new peer', got[1], want[1]), '');
});

test('native: a connect cancelled while it waits for its turn connects nothing and holds up nothing', async (t) => {
  await using a = await receiver();
  await using b = await receiver();
  const got: number[][] = [[], []];
  const want: number[][] = [[], []];
  let caught = 0;
  // The batch keeps the send lock while the JS thread queues the connect, cancels it and
  // queues a send; whether the cancel reaches the connect before its turn depends on thread
  // scheduling, so rounds repeat until one did (almost always the first).
  for (let round = 0, next = 0; round < 50 && caught === 0; round++) {
    const h = newNativeUdpSocket();
    await h.bind('127.0.0.1', 0, undefined, 0);
    await h.connect('127.0.0.1', a.localAddr.port, 0);
    const first = Array.from({ length: BATCH }, () => next++);
    const y = next++;
    const id = nextOpId();
    const ops = [
      h.sendMany(...toPeer(first.map((i, k) => seqData(i, k % 2))), 0, 0),
      h.connect('127.0.0.1', b.localAddr.port, id),
      h.send(seqData(y), 0),
    ];
    native().cancel(id);
    const [batch, connect, send] = await Promise.allSettled(ops);
    t.deepEqual([batch.status, send.status], ['fulfilled', 'fulfilled']);
    want[0].push(...first);
    if (connect.status === 'rejected') {
      t.is((connect.reason as { code?: string }).code, 'ABORT_ERR');
      t.is(h.peerAddr().port, a.localAddr.port, 'the cancelled connect changed the peer');
      want[0].push(y);
      caught++;
    } else {
      want[1].push(y);
    }
    await collect([a, b], got, want[0].length + want[1].length);
    h.close();
  }
  t.true(caught > 0, 'no cancel reached a waiting connect');
  t.is(diff('the first peer', got[0], want[0]), '');
  t.is(diff('the second peer', got[1], want[1]), '');
});

test('UdpSocket: sends called before connect() go to their address, sends called right after it to the peer', async (t) => {
  await using a = await receiver();
  await using b = await receiver();
  const got: number[][] = [[], []];
  const want: number[][] = [[], []];
  for (let round = 0, next = 0; round < ROUNDS; round++) {
    await using tx = await UdpSocket.bind('127.0.0.1:0');
    const to = b.localAddr;
    const first = Array.from({ length: BATCH }, () => next++);
    const [v, w, x, y, z] = [next++, next++, next++, next++, next++];
    // None is awaited before the next is called.
    const ops: Promise<unknown>[] = [
      tx.sendMany(first.map((i, k) => ({ data: seqData(i, k % 2), address: to.address, port: to.port }))),
      tx.sendTo(seqData(v), to),
      tx.connect(a.localAddr),
      tx.send(seqData(w)),
      // Address-less datagrams are accepted while the connect is pending.
      tx.sendMany([{ data: seqData(x) }, { data: seqData(y, 1) }]),
      tx.send(seqData(z)),
    ];
    const outcomes = await Promise.allSettled(ops);
    t.deepEqual(
      outcomes.map((o) => o.status),
      ops.map(() => 'fulfilled'),
      outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : '')).join(' '),
    );
    // A batch may be sent in part (a full send buffer, ENOBUFS on macOS): it resolves how many
    // left, and only those are expected.
    const firstSent = (outcomes[0] as PromiseFulfilledResult<number>).value;
    const pairSent = (outcomes[4] as PromiseFulfilledResult<number>).value;
    want[1].push(...first.slice(0, firstSent), v);
    want[0].push(w, ...[x, y].slice(0, pairSent), z);
    await collect([a, b], got, want[0].length + want[1].length);
    t.is(tx.peerAddr.port, a.localAddr.port);
  }
  t.is(diff('the peer', got[0], want[0]), '');
  t.is(diff('the address of the earlier sends', got[1], want[1]), '');
});

test('UdpSocket: a send called while a connect is pending fails with that connect, and the socket stays unconnected', async (t) => {
  await using tx = await UdpSocket.bind('127.0.0.1:0');
  t.throws(() => tx.sendMany([{ data: 'x' }]), { instanceOf: TypeError, message: /datagrams\[0\]\.address/ });
  // An IPv6 peer for an IPv4 socket: the OS refuses the connect.
  const connecting = tx.connect('[::1]:9');
  const sends = [tx.send('a'), tx.sendMany([{ data: 'b' }])];
  const e = await t.throwsAsync(connecting);
  t.is(typeof (e as { code?: unknown }).code, 'string');
  for (const s of sends) {
    const err = await t.throwsAsync(s);
    t.is(typeof (err as { code?: unknown }).code, 'string');
  }
  t.throws(() => tx.sendMany([{ data: 'x' }]), { instanceOf: TypeError, message: /datagrams\[0\]\.address/ });
  t.throws(() => tx.peerAddr);
});

test('a receive waiting when connect() is called does not hold it up, and gets the peer\'s datagram', async (t) => {
  await using rx = await receiver();
  await using peer = await UdpSocket.bind('127.0.0.1:0');
  const buf = Buffer.alloc(16);
  const waiting = rx.recvFrom(buf);
  await rx.connect(peer.localAddr);
  await peer.sendTo('hello', rx.localAddr);
  const r = await waiting;
  t.is(buf.toString('utf8', 0, r.bytes), 'hello');
  t.is(r.port, peer.localAddr.port);
});

// Serial: serial tests run before the concurrent ones, so this rerun (spawnSync, which blocks
// this process's event loop) does not hold up other tests' timers.
test.serial('this file passes with CORIO_SYNC_BUDGET=0 too (every send through the waiting path)', (t) => {
  if (fastPathOff) {
    t.pass('already the run without the fast path');
    return;
  }
  const r = rerunSpec('__test__/udp-connect-order.spec.ts', { CORIO_SYNC_BUDGET: '0' });
  t.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
});
