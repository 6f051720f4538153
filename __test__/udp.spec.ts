/**
 * UdpSocket: round trips of every size, IPv6, concurrent receivers, connected sockets,
 * multicast, close and abort semantics, iteration, socket options and argument validation.
 * Everything runs on loopback between sockets the test binds itself.
 */

import test from 'ava';
import * as os from 'node:os';
import { AbortError, UdpSocket } from '../src';

const hasIPv6Loopback = Object.values(os.networkInterfaces()).some((list) =>
  (list ?? []).some((i) => i.family === 'IPv6' && i.address === '::1'),
);

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

async function pair(host = '127.0.0.1'): Promise<[UdpSocket, UdpSocket]> {
  const a = await UdpSocket.bind({ host, port: 0 });
  const b = await UdpSocket.bind({ host, port: 0 });
  return [a, b];
}

test('bind reports the real address; localAddr is cached', async (t) => {
  const s = await UdpSocket.bind('127.0.0.1:0');
  const a = s.localAddr;
  t.is(a.address, '127.0.0.1');
  t.is(a.family, 'IPv4');
  t.true(a.port > 0);
  t.is(s.localAddr, a);
  s.close();
});

test('sizes 0 to 65,507 bytes round-trip over IPv4 loopback; 65,508 rejects with EMSGSIZE', async (t) => {
  const [a, b] = await pair();
  await using _a = a;
  await using _b = b;
  const buf = new Uint8Array(65_536);
  for (const size of [0, 1, 2, 100, 1400, 1500, 9000, 32_768, 65_000, 65_507]) {
    const data = pattern(size, size);
    t.is(await a.sendTo(data, b.localAddr), size);
    const r = await b.recvFrom(buf);
    t.is(r.bytes, size, `size ${size}`);
    t.true(Buffer.from(buf.buffer, 0, r.bytes).equals(data), `payload of size ${size}`);
    t.is(r.port, a.localAddr.port);
    t.is(r.address, '127.0.0.1');
    t.is(r.family, 'IPv4');
  }
  const err = await t.throwsAsync(a.sendTo(new Uint8Array(65_508), b.localAddr));
  t.is((err as { code?: string }).code, 'EMSGSIZE');
  t.is((err as { syscall?: string }).syscall, 'send');
  t.is((err as { port?: number }).port, b.localAddr.port);
  // The same limit through a batch.
  const err2 = await t.throwsAsync(a.sendMany([{ data: new Uint8Array(65_508), address: '127.0.0.1', port: b.localAddr.port }]));
  t.is((err2 as { code?: string }).code, 'EMSGSIZE');
});

test('a datagram waits for a pending receiver (the native path), then the fast path', async (t) => {
  const [a, b] = await pair();
  const buf = new Uint8Array(64);
  const pending = b.recvFrom(buf);
  await a.sendTo('late', b.localAddr);
  const r = await pending;
  t.is(Buffer.from(buf.subarray(0, r.bytes)).toString(), 'late');
  a.close();
  b.close();
});

test('a datagram longer than the buffer is truncated to it', async (t) => {
  const [a, b] = await pair();
  await a.sendTo('0123456789', b.localAddr);
  const small = new Uint8Array(4);
  const r = await b.recvFrom(small);
  t.is(r.bytes, 4);
  t.is(Buffer.from(small).toString(), '0123');
  a.close();
  b.close();
});

test('IPv6 loopback round trip', async (t) => {
  if (!hasIPv6Loopback) {
    t.log('skipped: this machine has no ::1 loopback interface');
    t.pass();
    return;
  }
  const [a, b] = await pair('::1');
  t.is(b.localAddr.family, 'IPv6');
  t.is(b.localAddr.address, '::1');
  await a.sendTo('six', `[::1]:${b.localAddr.port}`);
  const buf = new Uint8Array(16);
  const r = await b.recvFrom(buf);
  t.deepEqual({ ...r }, { bytes: 3, address: '::1', port: a.localAddr.port, family: 'IPv6' });
  await a.sendMany([{ data: 'm1', address: '::1', port: b.localAddr.port }, { data: 'm2', address: '[::1]', port: b.localAddr.port }]);
  const got: string[] = [];
  while (got.length < 2) for (const d of await b.recvMany(8)) got.push(`${Buffer.from(d.data)}@${d.address}/${d.family}`);
  t.deepEqual(got, ['m1@::1/IPv6', 'm2@::1/IPv6']);
  a.close();
  b.close();
});

test('100 concurrent receivers each get a distinct datagram', async (t) => {
  const [a, b] = await pair();
  const receivers = Array.from({ length: 100 }, () => {
    const buf = new Uint8Array(16);
    return b.recvFrom(buf).then((r) => Buffer.from(buf.subarray(0, r.bytes)).toString());
  });
  for (let i = 0; i < 100; i++) await a.sendTo(`d${i}`, b.localAddr);
  const got = await Promise.all(receivers);
  t.is(new Set(got).size, 100);
  t.deepEqual([...got].sort(), Array.from({ length: 100 }, (_, i) => `d${i}`).sort());
  a.close();
  b.close();
});

test('connected send/recv; peerAddr; datagrams from others are dropped', async (t) => {
  const [a, b] = await pair();
  const other = await UdpSocket.bind('127.0.0.1:0');
  await a.connect(b.localAddr);
  await b.connect(a.localAddr);
  t.deepEqual({ ...a.peerAddr }, { ...b.localAddr });
  await other.sendTo('intruder', b.localAddr);
  t.is(await a.send('hi'), 2);
  const buf = new Uint8Array(16);
  const n = await b.recv(buf);
  t.is(Buffer.from(buf.subarray(0, n)).toString(), 'hi');
  t.is(await b.send(new Uint8Array([1, 2, 3])), 3);
  t.is(await a.recv(buf), 3);
  // sendMany without addresses goes to the peer.
  t.is(await a.sendMany([{ data: 'x' }, { data: 'yz' }]), 2);
  const got: string[] = [];
  while (got.length < 2) for (const d of await b.recvMany()) got.push(Buffer.from(d.data).toString());
  t.deepEqual(got, ['x', 'yz']);
  // Unconnected: a batch needs addresses.
  t.throws(() => other.sendMany([{ data: 'x' }]), { code: 'ERR_INVALID_ARG_VALUE' });
  a.close();
  b.close();
  other.close();
});

test('multicast on loopback (where the machine permits it)', async (t) => {
  const group = '239.255.77.77';
  const r = await UdpSocket.bind({ host: '0.0.0.0', port: 0 }, { reuseAddress: true });
  try {
    r.joinMulticast(group, '127.0.0.1');
  } catch (err) {
    t.log(`skipped: joining ${group} on 127.0.0.1 failed (${(err as { code?: string }).code}); no multicast on loopback here`);
    r.close();
    t.pass();
    return;
  }
  const s = await UdpSocket.bind('127.0.0.1:0');
  s.setMulticastTtl(1);
  s.setMulticastLoopback(true);
  try {
    await s.sendTo('mc', { host: group, port: r.localAddr.port });
  } catch (err) {
    t.log(`skipped: sending to ${group} failed (${(err as { code?: string }).code}); no multicast route here`);
    r.close();
    s.close();
    t.pass();
    return;
  }
  const ac = new AbortController();
  const guard = setTimeout(() => ac.abort(), 5000);
  try {
    const buf = new Uint8Array(16);
    const got = await r.recvFrom(buf, { signal: ac.signal });
    t.is(Buffer.from(buf.subarray(0, got.bytes)).toString(), 'mc');
    r.leaveMulticast(group, '127.0.0.1');
  } catch (err) {
    if (!(err instanceof AbortError)) throw err;
    t.log(`skipped: the multicast datagram was not delivered on loopback within 5 s (the machine routes ${group} elsewhere)`);
    t.pass();
  } finally {
    clearTimeout(guard);
    r.close();
    s.close();
  }
});

test('close with receivers pending rejects them all with ERR_SOCKET_CLOSED', async (t) => {
  const s = await UdpSocket.bind('127.0.0.1:0');
  const pending = [
    s.recvFrom(new Uint8Array(8)),
    s.recvFrom(new Uint8Array(8)),
    s.recvMany(),
    s.recv(new Uint8Array(8)),
  ];
  s.close();
  for (const p of pending) await t.throwsAsync(p, { code: 'ERR_SOCKET_CLOSED' });
  await t.throwsAsync(s.recvFrom(new Uint8Array(8)), { code: 'ERR_SOCKET_CLOSED' });
  await t.throwsAsync(s.sendTo('x', '127.0.0.1:9'), { code: 'ERR_SOCKET_CLOSED' });
  await t.throwsAsync(s.sendMany([{ data: 'x', port: 9 }]), { code: 'ERR_SOCKET_CLOSED' });
  t.throws(() => s.localAddr, { code: 'ERR_SOCKET_CLOSED' });
  t.throws(() => s.setTtl(3), { code: 'ERR_SOCKET_CLOSED' });
  t.true(s.closed);
  s.close(); // idempotent
});

test('abort by signal: the receive rejects, later datagrams go to the next receiver', async (t) => {
  const [a, b] = await pair();
  const ac = new AbortController();
  const p = b.recvFrom(new Uint8Array(8), { signal: ac.signal });
  const q = b.recvMany(4, { signal: ac.signal });
  ac.abort(new Error('stop'));
  const e1 = await t.throwsAsync(p, { instanceOf: AbortError });
  t.is((e1 as AbortError).code, 'ABORT_ERR');
  t.is(((e1 as AbortError).cause as Error).message, 'stop');
  await t.throwsAsync(q, { instanceOf: AbortError });
  // An already-aborted signal rejects without consuming anything.
  await a.sendTo('kept', b.localAddr);
  await t.throwsAsync(b.recvFrom(new Uint8Array(8), { signal: ac.signal }), { instanceOf: AbortError });
  const buf = new Uint8Array(8);
  const r = await b.recvFrom(buf);
  t.is(Buffer.from(buf.subarray(0, r.bytes)).toString(), 'kept');
  a.close();
  b.close();
});

test('for await yields datagrams and ends when the socket closes', async (t) => {
  const [a, b] = await pair();
  for (let i = 0; i < 5; i++) await a.sendTo(`n${i}`, b.localAddr);
  const seen: string[] = [];
  for await (const d of b) {
    seen.push(Buffer.from(d.data).toString());
    t.is(d.port, a.localAddr.port);
    if (seen.length === 5) setImmediate(() => b.close());
  }
  t.deepEqual(seen, ['n0', 'n1', 'n2', 'n3', 'n4']);
  t.true(b.closed);
  a.close();
});

test('bind options are applied; setters work on an open socket', async (t) => {
  const s = await UdpSocket.bind('127.0.0.1:0', {
    reuseAddress: true,
    reusePort: process.platform === 'linux',
    broadcast: true,
    recvBufferSize: 1 << 20,
    sendBufferSize: 1 << 20,
  });
  s.setBroadcast(false);
  s.setTtl(64);
  s.setMulticastTtl(2);
  s.setMulticastLoopback(false);
  // Two sockets may share a port with reuseAddress+reusePort on Linux.
  if (process.platform === 'linux') {
    const twin = await UdpSocket.bind({ port: s.localAddr.port }, { reuseAddress: true, reusePort: true });
    t.is(twin.localAddr.port, s.localAddr.port);
    twin.close();
  }
  const taken = await t.throwsAsync(UdpSocket.bind({ port: s.localAddr.port }));
  t.is((taken as { code?: string }).code, 'EADDRINUSE');
  t.is((taken as { syscall?: string }).syscall, 'bind');
  t.is((taken as { port?: number }).port, s.localAddr.port);
  s.close();
});

test('ref/unref and asyncDispose', async (t) => {
  let inner: UdpSocket | undefined;
  {
    await using s = await UdpSocket.bind('127.0.0.1:0');
    inner = s;
    t.is(s.unref(), s);
    t.is(s.ref(), s);
  }
  t.true(inner.closed);
});

test('argument validation names the argument', async (t) => {
  const s = await UdpSocket.bind('127.0.0.1:0');
  t.throws(() => UdpSocket.bind(42 as never), { code: 'ERR_INVALID_ARG_TYPE', message: /"addr"/ });
  t.throws(() => UdpSocket.bind('127.0.0.1:0', { recvBufferSize: 0 }), { code: 'ERR_OUT_OF_RANGE', message: /opts\.recvBufferSize/ });
  t.throws(() => UdpSocket.bind('127.0.0.1:0', { reusePort: 'yes' as never }), { code: 'ERR_INVALID_ARG_TYPE', message: /opts\.reusePort/ });
  t.throws(() => s.sendTo(5 as never, '127.0.0.1:9'), { code: 'ERR_INVALID_ARG_TYPE', message: /"data"/ });
  t.throws(() => s.sendTo('x', '127.0.0.1:0'), { code: 'ERR_OUT_OF_RANGE', message: /addr\.port/ });
  t.throws(() => s.recvFrom('buf' as never), { code: 'ERR_INVALID_ARG_TYPE', message: /"buf"/ });
  t.throws(() => s.recvFrom(new Uint8Array(1), { signal: 'x' } as never), { code: 'ERR_INVALID_ARG_TYPE', message: /opts\.signal/ });
  t.throws(() => s.recvMany(0), { code: 'ERR_OUT_OF_RANGE', message: /"max"/ });
  t.throws(() => s.recvMany(1.5), { code: 'ERR_OUT_OF_RANGE', message: /"max"/ });
  t.throws(() => s.recvMany(2000), { code: 'ERR_OUT_OF_RANGE', message: /"max"/ });
  t.throws(() => s.sendMany('x' as never), { code: 'ERR_INVALID_ARG_TYPE', message: /"datagrams"/ });
  t.throws(() => s.sendMany([null as never]), { code: 'ERR_INVALID_ARG_TYPE', message: /datagrams\[0\]/ });
  t.throws(() => s.sendMany([{ data: 'x', port: 70000 }]), { code: 'ERR_OUT_OF_RANGE', message: /datagrams\[0\]\.port/ });
  t.throws(() => s.sendMany([{ data: 1 as never, port: 9 }]), { code: 'ERR_INVALID_ARG_TYPE', message: /datagrams\[0\]\.data/ });
  t.throws(() => s.setTtl(0), { code: 'ERR_OUT_OF_RANGE', message: /"ttl"/ });
  t.throws(() => s.setMulticastTtl(256), { code: 'ERR_OUT_OF_RANGE', message: /"ttl"/ });
  t.throws(() => s.setBroadcast(1 as never), { code: 'ERR_INVALID_ARG_TYPE', message: /"on"/ });
  t.throws(() => s.joinMulticast(5 as never), { code: 'ERR_INVALID_ARG_TYPE', message: /"group"/ });
  t.throws(() => s.joinMulticast('127.0.0.1'), { code: 'ERR_INVALID_ARG_TYPE', message: /"group"/ });
  t.throws(() => s.joinMulticast('239.1.1.1', -1), { code: 'ERR_OUT_OF_RANGE', message: /"iface"/ });
  t.throws(() => s.connect('nope'), { code: 'ERR_INVALID_ARG_VALUE' });
  s.close();
});
