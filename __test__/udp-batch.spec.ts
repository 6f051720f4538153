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
