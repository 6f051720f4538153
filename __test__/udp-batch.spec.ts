/**
 * UdpSocket batches: sendMany/recvMany move 10,000 datagrams with none lost when the receive
 * buffer holds each batch, and a batch returns everything queued in one call.
 */

import test from 'ava';
import { UdpSocket } from '../src';

const TOTAL = 10_000;
const BATCH = 500;
const SIZE = 64;

test('10,000 datagrams through sendMany/recvMany, none lost when the buffers hold them', async (t) => {
  // 500 datagrams of 64 B take well under 1 MiB of receive buffer (kernel accounting
  // included), so sending a batch and then draining it can never overflow the buffer.
  const rx = await UdpSocket.bind('127.0.0.1:0', { recvBufferSize: 4 << 20 });
  const tx = await UdpSocket.bind('127.0.0.1:0', { sendBufferSize: 4 << 20 });
  const { port } = rx.localAddr;
  const seen = new Uint8Array(TOTAL);
  let received = 0;
  let calls = 0;
  for (let base = 0; base < TOTAL; base += BATCH) {
    const batch = Array.from({ length: BATCH }, (_, i) => {
      const data = Buffer.alloc(SIZE, 0);
      data.writeUInt32LE(base + i, 0);
      return { data, address: '127.0.0.1', port };
    });
    t.is(await tx.sendMany(batch), BATCH);
    let got = 0;
    while (got < BATCH) {
      const ds = await rx.recvMany(64);
      calls++;
      t.true(ds.length >= 1 && ds.length <= 64);
      for (const d of ds) {
        t.is(d.data.byteLength, SIZE);
        const id = Buffer.from(d.data.buffer, d.data.byteOffset, d.data.byteLength).readUInt32LE(0);
        t.is(seen[id], 0, `datagram ${id} seen once`);
        seen[id] = 1;
        t.is(d.port, tx.localAddr.port);
      }
      got += ds.length;
      received += ds.length;
    }
  }
  t.is(received, TOTAL);
  t.true(seen.every((x) => x === 1));
  t.log(`${TOTAL} datagrams in ${calls} recvMany calls`);
  t.true(calls < TOTAL / 8, 'batches carry many datagrams each');
  rx.close();
  tx.close();
});

test('recvMany returns every queued datagram up to max in one call, in order', async (t) => {
  const rx = await UdpSocket.bind('127.0.0.1:0');
  const tx = await UdpSocket.bind('127.0.0.1:0');
  const batch = Array.from({ length: 10 }, (_, i) => ({ data: `m${i}`, port: rx.localAddr.port }));
  t.is(await tx.sendMany(batch), 10);
  // Loopback delivers synchronously into the receive queue, so all 10 are queued now.
  const first = await rx.recvMany(4);
  t.deepEqual(first.map((d) => Buffer.from(d.data).toString()), ['m0', 'm1', 'm2', 'm3']);
  const rest = await rx.recvMany(64);
  t.deepEqual(rest.map((d) => Buffer.from(d.data).toString()), ['m4', 'm5', 'm6', 'm7', 'm8', 'm9']);
  t.true(rest.every((d) => d.address === '127.0.0.1' && d.family === 'IPv4'));
  // Empty datagrams and an empty batch.
  t.is(await tx.sendMany([]), 0);
  t.is(await tx.sendMany([{ data: new Uint8Array(0), port: rx.localAddr.port }]), 1);
  const [empty] = await rx.recvMany();
  t.is(empty.data.byteLength, 0);
  rx.close();
  tx.close();
});

test('a waiting recvMany is woken by the first datagram', async (t) => {
  const rx = await UdpSocket.bind('127.0.0.1:0');
  const tx = await UdpSocket.bind('127.0.0.1:0');
  const waiting = rx.recvMany(16);
  await tx.sendTo('wake', rx.localAddr);
  const ds = await waiting;
  t.true(ds.length >= 1);
  t.is(Buffer.from(ds[0].data).toString(), 'wake');
  rx.close();
  tx.close();
});

/** A payload unique to datagram `i`: its index in the first 4 bytes, then a pattern. */
function numbered(i: number, size: number): Buffer {
  const b = Buffer.alloc(size, i & 0xff);
  b.writeUInt32LE(i, 0);
  return b;
}

test('runs of equal datagrams (segmented on Linux) arrive split, each once, across every receive kind', async (t) => {
  const rx = await UdpSocket.bind('127.0.0.1:0', { recvBufferSize: 4 << 20 });
  const tx = await UdpSocket.bind('127.0.0.1:0');
  const port = rx.localAddr.port;
  // The first recvMany switches on coalesced receives (UDP_GRO on Linux) for this socket.
  await tx.sendTo('warm-up', rx.localAddr);
  t.is(Buffer.from((await rx.recvMany(1))[0].data).toString(), 'warm-up');
  const sent: Buffer[] = [];
  for (const [size, count] of [
    [64, 130],
    [1400, 50],
    [700, 3],
  ] as const) {
    const batch = Array.from({ length: count }, () => {
      const data = numbered(sent.length, size);
      sent.push(data);
      return { data, address: '127.0.0.1', port };
    });
    t.is(await tx.sendMany(batch), count);
  }
  // Receive as many as were sent, then compare by the index each carries: loopback keeps the
  // order within one send call (one super-datagram) but may reorder separate calls when
  // softirq work is deferred, so no end marker sent after the batches is reliable. Exactly
  // the datagrams sent must arrive: none lost, split, merged or repeated.
  const got: Buffer[] = [];
  const buf = new Uint8Array(2048);
  for (let round = 0; got.length < sent.length; round++) {
    if (round % 3 === 2) {
      const r = await rx.recvFrom(buf);
      t.is(r.port, tx.localAddr.port);
      got.push(Buffer.from(buf.subarray(0, r.bytes)));
    } else {
      const max = round % 3 === 0 ? 10 : 7;
      const ds = await rx.recvMany(max);
      t.true(ds.length >= 1 && ds.length <= max, `recvMany(${max}) returned ${ds.length}`);
      for (const d of ds) {
        t.is(d.port, tx.localAddr.port);
        got.push(Buffer.from(d.data));
      }
    }
  }
  t.is(got.length, sent.length, 'more datagrams than were sent');
  const seen = new Set<number>();
  for (const g of got) {
    const i = g.byteLength >= 4 ? g.readUInt32LE(0) : -1;
    if (!(i >= 0 && i < sent.length) || seen.has(i) || !g.equals(sent[i])) {
      t.fail(`datagram with index ${i} (length ${g.byteLength}) was not sent, or arrived twice or altered`);
      break;
    }
    seen.add(i);
  }
  t.is(seen.size, sent.length);
  rx.close();
  tx.close();
});

test('receivers already waiting share a coalesced run: each is served, none lost or repeated', async (t) => {
  const rx = await UdpSocket.bind('127.0.0.1:0', { recvBufferSize: 4 << 20 });
  const tx = await UdpSocket.bind('127.0.0.1:0');
  const port = rx.localAddr.port;
  await tx.sendTo('warm-up', rx.localAddr);
  await rx.recvMany(1);
  // Four receivers wait before anything is sent; one batch of 40 (one run) then arrives. The
  // first to wake may take the whole run from the kernel; the others must still be served from
  // what it left over, although the kernel queue is then empty.
  const buf = new Uint8Array(256);
  const waiting: Array<Promise<Buffer[]>> = [
    rx.recvMany(5).then((ds) => ds.map((d) => Buffer.from(d.data))),
    rx.recvFrom(buf).then((r) => [Buffer.from(buf.subarray(0, r.bytes))]),
    rx.recvMany(5).then((ds) => ds.map((d) => Buffer.from(d.data))),
    rx.recvMany(5).then((ds) => ds.map((d) => Buffer.from(d.data))),
  ];
  const sent = Array.from({ length: 40 }, (_, i) => numbered(i, 64));
  t.is(await tx.sendMany(sent.map((data) => ({ data, port }))), 40);
  const got = (await Promise.all(waiting)).flat();
  while (got.length < 40) {
    for (const d of await rx.recvMany(64)) got.push(Buffer.from(d.data));
  }
  t.is(got.length, 40);
  const ids = got.map((b) => b.readUInt32LE(0)).sort((a, b) => a - b);
  t.deepEqual(ids, Array.from({ length: 40 }, (_, i) => i));
  rx.close();
  tx.close();
});
