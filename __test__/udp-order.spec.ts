/**
 * UDP send order: the sends of one socket leave in call order, also those that have to wait
 * (native operations on the runtime), as with node:dgram.
 *
 * Sends on loopback almost never have to wait, so the tests force the waiting path in two
 * ways: the native tests call the binding's waiting entry points (`send`, `sendTo`,
 * `sendMany`) directly, and the `UdpSocket` tests are meaningful with `CORIO_SYNC_BUDGET=0`,
 * which turns the JS-thread fast path off (the last test reruns this file that way, and a
 * metrics check there proves the sends went through the runtime). The receiver has a large
 * receive buffer, so no datagram is dropped; loopback then delivers them in the order sent.
 */

import test from 'ava';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runtime, UdpSocket } from '../src';
import { native, nextOpId } from '../src/native';
import { NativeUdpSocket, newNativeUdpSocket } from '../src/udp/native';

/** Sends per test, all issued without awaiting. */
const COUNT = 2000;
const fastPathOff = process.env.CORIO_SYNC_BUDGET === '0';

/** A datagram carrying sequence number `i` (u32 little endian). */
function seqData(i: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(i, 0);
  return b;
}

/** A receiver whose buffer holds every datagram of a test (Linux caps it at rmem_max). */
function receiver(): Promise<UdpSocket> {
  return UdpSocket.bind('127.0.0.1:0', { recvBufferSize: 8 << 20 });
}

/** Receives until `done()`, appending the sequence numbers to `seqs` in arrival order. */
async function collectInto(rx: UdpSocket, seqs: number[], done: () => boolean): Promise<number[]> {
  while (!done()) {
    for (const d of await rx.recvMany(256)) {
      seqs.push(Buffer.from(d.data.buffer, d.data.byteOffset, d.data.byteLength).readUInt32LE(0));
    }
  }
  return seqs;
}

/** Receives `want` datagrams; returns their sequence numbers in arrival order. */
function collect(rx: UdpSocket, want: number): Promise<number[]> {
  const seqs: number[] = [];
  return collectInto(rx, seqs, () => seqs.length >= want);
}

/** The first index where `got` leaves increasing order, as a message; `''` when in order. */
function disorder(got: number[]): string {
  for (let i = 1; i < got.length; i++) {
    if (got[i] <= got[i - 1]) return `datagram ${got[i]} arrived right after ${got[i - 1]} (position ${i})`;
  }
  return '';
}

/** A native socket bound on loopback and connected to `port`. */
async function nativeSender(port: number): Promise<NativeUdpSocket> {
  const h = newNativeUdpSocket();
  await h.bind('127.0.0.1', 0, undefined, 0);
  await h.connect('127.0.0.1', port, 0);
  return h;
}

/** A one-datagram batch for the native `sendMany` (layout in src/udp/native.ts). */
function batchOf(data: Buffer, port: number, connected: boolean): [Uint8Array, Uint8Array, string[]] {
  const meta = new Uint8Array(8);
  const v = new DataView(meta.buffer);
  v.setUint32(0, data.byteLength, true);
  v.setUint16(4, connected ? 0 : port, true);
  v.setUint16(6, 0, true);
  return [data, meta, [connected ? '' : '127.0.0.1']];
}

/** The datagrams of a batch that keeps the send lock for a while (sizes vary: no segmentation). */
const BATCH = Array.from({ length: 512 }, (_, k) => k);

/** A native batch of `seqs` to the connected peer (layout in src/udp/native.ts). */
function packBatch(seqs: number[]): [Uint8Array, Uint8Array] {
  const datas = seqs.map((i, k) => Buffer.concat([seqData(i), Buffer.alloc(k % 2)]));
  const meta = new Uint8Array(8 * seqs.length);
  const v = new DataView(meta.buffer);
  datas.forEach((d, k) => v.setUint32(8 * k, d.byteLength, true));
  return [Buffer.concat(datas), meta];
}

type Kind = 'send' | 'sendTo' | 'sendMany' | 'mixed';
const kinds: Kind[] = ['send', 'sendTo', 'sendMany', 'mixed'];
const kindOf = (kind: Kind, i: number): Exclude<Kind, 'mixed'> =>
  kind === 'mixed' ? (['send', 'sendTo', 'sendMany'] as const)[i % 3] : kind;

for (const kind of kinds) {
  test(`native waiting sends leave in call order: ${COUNT} × ${kind}`, async (t) => {
    await using rx = await receiver();
    const port = rx.localAddr.port;
    const h = await nativeSender(port);
    const sends: Promise<number>[] = [];
    for (let i = 0; i < COUNT; i++) {
      const data = seqData(i);
      switch (kindOf(kind, i)) {
        case 'send':
          sends.push(h.send(data, 0));
          break;
        case 'sendTo':
          sends.push(h.sendTo(data, '127.0.0.1', port, 0));
          break;
        case 'sendMany': {
          const [payload, meta, hosts] = batchOf(data, port, i % 2 === 0);
          sends.push(h.sendMany(payload, meta, hosts, 0, 0));
          break;
        }
      }
    }
    const received = collect(rx, COUNT);
    const results = await Promise.all(sends);
    t.true(results.every((n, i) => n === (kindOf(kind, i) === 'sendMany' ? 1 : 8)));
    const got = await received;
    t.is(got.length, COUNT);
    t.is(disorder(got), '');
    h.close();
  });
}

test('a native waiting send cancelled while queued does not hold up the sends after it', async (t) => {
  await using rx = await receiver();
  const port = rx.localAddr.port;
  const h = await nativeSender(port);
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
    const [payload, meta] = packBatch(first);
    const sends = [h.sendMany(payload, meta, [''], 0, 0), h.send(seqData(b), id), h.send(seqData(c), 0)];
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
test.serial(`UdpSocket sends (send, sendTo, sendMany mixed) leave in call order: ${COUNT} without awaiting`, async (t) => {
  await using rx = await receiver();
  await using tx = await UdpSocket.bind('127.0.0.1:0');
  await tx.connect(rx.localAddr);
  const to = rx.localAddr;
  const before = runtime.metrics().completions;
  const sends: Promise<number>[] = [];
  for (let i = 0; i < COUNT; i++) {
    const data = seqData(i);
    if (i % 3 === 0) sends.push(tx.send(data));
    else if (i % 3 === 1) sends.push(tx.sendTo(data, to));
    else sends.push(tx.sendMany([{ data }]));
  }
  const received = collect(rx, COUNT);
  const results = await Promise.all(sends);
  t.true(results.every((r, i) => r === (i % 3 === 2 ? 1 : 8)));
  if (fastPathOff) {
    // Every send waited on the runtime (none completed on the JS thread).
    t.true(runtime.metrics().completions - before >= COUNT);
  }
  const got = await received;
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
      tx.sendMany(first.map((i, k) => ({ data: Buffer.concat([seqData(i), Buffer.alloc(k % 2)]) }))),
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

test('this file passes with CORIO_SYNC_BUDGET=0 too (every send through the waiting path)', (t) => {
  if (fastPathOff) {
    t.pass('already the run without the fast path');
    return;
  }
  const ava = path.join(__dirname, '..', 'node_modules', 'ava', 'entrypoints', 'cli.mjs');
  const r = spawnSync(process.execPath, [ava, path.join('__test__', 'udp-order.spec.ts')], {
    cwd: path.join(__dirname, '..'),
    env: { ...process.env, CORIO_SYNC_BUDGET: '0' },
    encoding: 'utf8',
    timeout: 100_000,
  });
  t.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
});
