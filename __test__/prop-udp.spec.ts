/**
 * Bad input, UDP (issue 5): property-based tests over every argument and option of
 * `UdpSocket` — bind options, addresses of every form, payloads of every type and size (at
 * and past the IPv4/IPv6 datagram limits), receive buffers, `recvMany(max)`, `sendMany`
 * batches, socket options, multicast arguments, and calls after `close()`. Only
 * `TypeError`/`RangeError` with Node's argument codes, documented codes or Node-shaped OS errors
 * may come out; never a crash, a hang or an unhandled rejection (see `prop-harness.ts`).
 * Loopback only: valid destination ports are mapped to sockets this file binds (or a closed
 * port), multicast joins use the loopback interface.
 */

import test from 'ava';
import fc from 'fast-check';
import * as os from 'node:os';
import { UdpSocket } from '../src';
import {
  addressArb,
  anyValue,
  assertNoUnhandled,
  bufferish,
  call,
  mayQueryDns,
  numberish,
  options,
  portValue,
  report,
  runs,
  safeHost,
  signalValue,
} from './prop-harness';

const hasIPv6Loopback = Object.values(os.networkInterfaces()).some((list) =>
  (list ?? []).some((i) => i.family === 'IPv6' && i.address === '::1'),
);

/** Receives (and drops) the random sends. */
let sink: UdpSocket;
/** A port nothing listens on. */
let closedPort: number;
/** Sends the datagrams that finish pending receives. */
let feeder: UdpSocket;
const open = new Set<UdpSocket>();

test.before(async () => {
  sink = await UdpSocket.bind('127.0.0.1:0');
  feeder = await UdpSocket.bind('127.0.0.1:0');
  const tmp = await UdpSocket.bind('127.0.0.1:0');
  closedPort = tmp.localAddr.port;
  tmp.close();
  void (async () => {
    try {
      for await (const _ of sink) {
        // dropped
      }
    } catch {
      // closed
    }
  })();
});

test.after.always((t) => {
  for (const s of open) s.close();
  sink?.close();
  feeder?.close();
  report(t, 'prop-udp');
});

async function socket(addr = '127.0.0.1:0'): Promise<UdpSocket> {
  const s = await UdpSocket.bind(addr);
  open.add(s);
  return s;
}

/** Ports safe to send to: the sink, a closed port, or invalid ones. */
function destPort(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(sink.localAddr.port, closedPort),
    portValue.filter((p) => typeof p !== 'number' || !Number.isInteger(p) || p <= 0 || p > 65535),
  );
}

const payload = fc.oneof(bufferish, fc.string({ unit: 'grapheme', maxLength: 64 }), fc.constantFrom('😀𝟘', '\ud800', 'a\0b'));

test.serial('UdpSocket.bind: random addresses and options', async (t) => {
  const bool = fc.boolean();
  const size = numberish(1, 2 ** 31 - 1);
  const opts = options({
    reuseAddress: bool,
    reusePort: bool,
    broadcast: bool,
    ipv6Only: bool,
    recvBufferSize: size,
    sendBufferSize: size,
    signal: signalValue,
  });
  await fc.assert(
    fc.asyncProperty(addressArb(portValue), opts, async (addr, o) => {
      const out = await call('UdpSocket.bind', () => UdpSocket.bind(addr as never, o as never));
      if (out.kind === 'resolved') {
        const s = out.value as UdpSocket;
        if (!(s instanceof UdpSocket) || !(s.localAddr.port > 0)) throw new Error('bind resolved a bad socket');
        s.close();
      }
    }),
    runs(300),
  );
  await assertNoUnhandled();
  t.pass();
});

test.serial('sendTo / send / sendMany: random payloads and destinations', async (t) => {
  const s = await socket();
  const connected = await socket();
  await connected.connect(sink.localAddr);
  const datagram = fc.oneof(
    fc.record(
      { data: fc.oneof(payload, anyValue), address: fc.oneof(safeHost, anyValue), port: fc.oneof(destPort(), anyValue) },
      { requiredKeys: [] },
    ),
    anyValue,
  );
  const batch = fc
    .oneof({ arbitrary: fc.array(datagram, { maxLength: 12 }), weight: 4 }, { arbitrary: anyValue, weight: 1 }, {
      arbitrary: fc.sparseArray(datagram, { maxLength: 6 }),
      weight: 1,
    })
    .filter(
      (b) =>
        !Array.isArray(b) ||
        b.every((d) => {
          try {
            const a = (d as { address?: unknown } | null | undefined)?.address;
            return typeof a !== 'string' || !mayQueryDns(a);
          } catch {
            return true; // a throwing getter: rejected before any lookup
          }
        }),
    );
  await fc.assert(
    fc.asyncProperty(fc.nat(3), payload, addressArb(destPort()), batch, async (which, data, addr, b) => {
      switch (which) {
        case 0: {
          const out = await call('UdpSocket.sendTo', () => s.sendTo(data as never, addr as never));
          if (out.kind === 'resolved' && typeof out.value !== 'number') throw new Error('sendTo resolved a non-number');
          break;
        }
        case 1: {
          const out = await call('UdpSocket.send (connected)', () => connected.send(data as never));
          if (out.kind === 'resolved' && typeof out.value !== 'number') throw new Error('send resolved a non-number');
          await call('UdpSocket.send (not connected)', () => s.send(data as never));
          break;
        }
        case 2:
        case 3: {
          const target = which === 2 ? s : connected;
          const out = await call(`UdpSocket.sendMany${which === 3 ? ' (connected)' : ''}`, () => target.sendMany(b as never));
          if (out.kind === 'resolved') {
            const n = out.value as number;
            if (!Number.isInteger(n) || n < 0 || n > (b as unknown[]).length) throw new Error(`sendMany resolved ${n}`);
          }
          break;
        }
      }
    }),
    runs(400),
  );
  await assertNoUnhandled();
  t.pass();
});

test.serial('recvFrom / recv / recvMany: random buffers, counts and options', async (t) => {
  const s = await socket();
  const target = s.localAddr;
  // Finishes a pending receive: one datagram to `s`.
  const feed = (): Promise<unknown> => feeder.sendTo('d', target).catch(() => 0);
  const opts = options({ signal: signalValue });
  await fc.assert(
    fc.asyncProperty(fc.nat(2), bufferish, numberish(1, 1024), opts, async (which, buf, max, o) => {
      switch (which) {
        case 0: {
          const out = await call('UdpSocket.recvFrom', () => s.recvFrom(buf as never, o as never), feed);
          if (out.kind === 'resolved') {
            const r = out.value as { bytes: number; port: number };
            const len = (buf as Uint8Array).byteLength;
            if (!(r.bytes >= 0 && r.bytes <= len && r.port > 0)) throw new Error(`recvFrom resolved ${JSON.stringify(r)}`);
          }
          break;
        }
        case 1: {
          const out = await call('UdpSocket.recv', () => s.recv(buf as never, o as never), feed);
          if (out.kind === 'resolved' && typeof out.value !== 'number') throw new Error('recv resolved a non-number');
          break;
        }
        case 2: {
          const out = await call('UdpSocket.recvMany', () => s.recvMany(max as never, o as never), feed);
          if (out.kind === 'resolved') {
            const list = out.value as unknown[];
            if (!Array.isArray(list) || list.length < 1 || list.length > (max as number)) {
              throw new Error(`recvMany(${String(max)}) resolved ${list.length} datagrams`);
            }
          }
          break;
        }
      }
    }),
    runs(400),
  );
  await assertNoUnhandled();
  t.pass();
});

test.serial('recvMany(max): 0, -1, 1.5, 2**31, NaN and friends throw synchronously', async (t) => {
  const s = await socket();
  for (const max of [0, -1, 1.5, 2 ** 31, NaN, Infinity, 1025, '64', null, 64n]) {
    const out = await call('UdpSocket.recvMany (edge max)', () => s.recvMany(max as never));
    t.is(out.kind, 'threw', `recvMany(${String(max)})`);
    const err = (out as { error: { code?: string; name?: string } }).error;
    t.true(err.code === 'ERR_OUT_OF_RANGE' || err.code === 'ERR_INVALID_ARG_TYPE', `recvMany(${String(max)}): ${err.code}`);
  }
  // `undefined` means the default (64).
  await feeder.sendTo('x', s.localAddr);
  const got = await call('UdpSocket.recvMany (edge max)', () => s.recvMany(undefined));
  t.is(got.kind, 'resolved');
  s.close();
  await assertNoUnhandled();
});

test.serial('connect: random addresses and options, each on a fresh socket', async (t) => {
  const opts = options({ signal: signalValue });
  await fc.assert(
    fc.asyncProperty(addressArb(destPort()), opts, async (addr, o) => {
      const s = await socket();
      const out = await call('UdpSocket.connect', () => s.connect(addr as never, o as never));
      if (out.kind === 'resolved') {
        await call('UdpSocket.peerAddr', () => s.peerAddr);
        await call('UdpSocket.send (connected)', () => s.send('c'));
      } else {
        await call('UdpSocket.peerAddr', () => s.peerAddr);
      }
      s.close();
      open.delete(s);
    }),
    runs(200),
  );
  await assertNoUnhandled();
  t.pass();
});

test.serial('socket options and multicast: random arguments', async (t) => {
  const s = await socket();
  const s6 = hasIPv6Loopback ? await socket('[::1]:0') : undefined;
  // Valid groups are joined on the loopback interface only.
  const group = fc.oneof(
    fc.constantFrom('224.0.0.251', '239.1.2.3', 'ff02::fb', 'ff12::1234', '127.0.0.1', '::1', '1.2.3.4', '', 'x', '224.0.0.251\0', '239.300.1.1', 'ff02::fb%lo'),
    anyValue,
  );
  const iface = fc.oneof(fc.constantFrom('127.0.0.1', 1, '', 'lo', '::1', '0.0.0.0', -1, 1.5, 2 ** 32, NaN), anyValue);
  await fc.assert(
    fc.asyncProperty(fc.nat(5), anyValue, numberish(0, 255), group, iface, fc.boolean(), async (which, v, ttl, g, i, use6) => {
      const sock = use6 && s6 ? s6 : s;
      switch (which) {
        case 0:
          await call('UdpSocket.setBroadcast', () => sock.setBroadcast(v as never));
          sock.setBroadcast(false);
          break;
        case 1:
          await call('UdpSocket.setTtl', () => sock.setTtl(ttl as never));
          break;
        case 2:
          await call('UdpSocket.setMulticastTtl', () => sock.setMulticastTtl(ttl as never));
          break;
        case 3:
          await call('UdpSocket.setMulticastLoopback', () => sock.setMulticastLoopback(v as never));
          break;
        case 4: {
          // Joining a real group on an interface other than loopback would send IGMP/MLD on the
          // network: valid groups keep a loopback interface.
          const validGroup = typeof g === 'string' && /^(22[4-9]|23\d)\.|^ff/i.test(g);
          const ifc = validGroup && !(i === '127.0.0.1' || i === 1) ? (use6 ? 1 : '127.0.0.1') : i;
          const out = await call('UdpSocket.joinMulticast', () => sock.joinMulticast(g as never, ifc as never));
          await call('UdpSocket.leaveMulticast', () => sock.leaveMulticast(g as never, ifc as never));
          break;
        }
        case 5:
          await call('UdpSocket.ref/unref', () => (sock.unref as (...a: unknown[]) => unknown).call(sock, v));
          await call('UdpSocket.ref/unref', () => (sock.ref as (...a: unknown[]) => unknown).call(sock, v));
          await call('UdpSocket.localAddr', () => sock.localAddr);
          await call('UdpSocket.peerAddr (not connected)', () => sock.peerAddr);
          break;
      }
    }),
    runs(400),
  );
  await assertNoUnhandled();
  t.pass();
});

type UdpOp = 'sendTo' | 'send' | 'sendMany' | 'recvFrom' | 'recv' | 'recvMany' | 'connect' | 'setTtl' | 'setBroadcast' | 'setMulticastTtl' | 'setMulticastLoopback' | 'joinMulticast' | 'localAddr' | 'peerAddr' | 'iterate' | 'ref' | 'close' | 'dispose';
const UDP_OPS: UdpOp[] = ['sendTo', 'send', 'sendMany', 'recvFrom', 'recv', 'recvMany', 'connect', 'setTtl', 'setBroadcast', 'setMulticastTtl', 'setMulticastLoopback', 'joinMulticast', 'localAddr', 'peerAddr', 'iterate', 'ref', 'close', 'dispose'];
const CLOSED_MUST: UdpOp[] = ['sendTo', 'send', 'sendMany', 'recvFrom', 'recv', 'recvMany', 'connect', 'setTtl', 'setBroadcast', 'setMulticastTtl', 'setMulticastLoopback', 'joinMulticast'];

test.serial('lifecycle: random operation sequences around close(), receives pending at close', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.constantFrom(...UDP_OPS), { minLength: 1, maxLength: 12 }), fc.nat(3), async (ops, pendingRecvs) => {
      const s = await socket();
      const me = s.localAddr;
      const pending = [];
      for (let i = 0; i < pendingRecvs; i++) pending.push(call('UdpSocket.recvFrom (pending at close)', () => s.recvFrom(new Uint8Array(8))));
      let closed = false;
      for (const op of ops) {
        const api = `UdpSocket.${op}${closed ? ' (after close)' : ''}`;
        const wasClosed = closed && op !== 'close' && op !== 'dispose';
        // Receives are fed by datagrams to the socket itself; loops end when it closes.
        const feed = (): Promise<unknown> => feeder.sendTo('f', me).catch(() => 0);
        const out = await call(
          api,
          () => {
            switch (op) {
              case 'sendTo':
                return s.sendTo('x', sink.localAddr);
              case 'send':
                return s.send('x');
              case 'sendMany':
                return s.sendMany([{ data: 'y', address: '127.0.0.1', port: sink.localAddr.port }]);
              case 'recvFrom':
                return s.recvFrom(new Uint8Array(4));
              case 'recv':
                return s.recv(new Uint8Array(4));
              case 'recvMany':
                return s.recvMany(4);
              case 'connect':
                return s.connect(feeder.localAddr);
              case 'setTtl':
                return s.setTtl(64);
              case 'setBroadcast':
                return s.setBroadcast(false);
              case 'setMulticastTtl':
                return s.setMulticastTtl(1);
              case 'setMulticastLoopback':
                return s.setMulticastLoopback(true);
              case 'joinMulticast':
                return s.joinMulticast('239.9.9.9', '127.0.0.1');
              case 'localAddr':
                return s.localAddr;
              case 'peerAddr':
                return s.peerAddr;
              case 'iterate': {
                // Enter the loop (one datagram, or its end at close), then leave it: that closes.
                const it = s[Symbol.asyncIterator]();
                return it.next().then(() => it.return(undefined));
              }
              case 'ref':
                return s.unref().ref();
              case 'close':
                closed = true;
                return s.close();
              case 'dispose':
                closed = true;
                return s[Symbol.asyncDispose]();
            }
          },
          op === 'recvFrom' || op === 'recv' || op === 'recvMany' || op === 'iterate' ? async () => {
            // Feed until this receive is done (queued receivers before it take theirs first).
            for (let k = 0; k <= pending.length + 1; k++) await feed();
          } : undefined,
        );
        if (op === 'iterate') closed = true; // leaving the loop closes the socket
        if (wasClosed && CLOSED_MUST.includes(op)) {
          const err = out.kind === 'threw' || out.kind === 'rejected' ? out.error : undefined;
          if ((err as { code?: unknown } | undefined)?.code !== 'ERR_SOCKET_CLOSED') {
            throw new Error(`${op} after close: expected ERR_SOCKET_CLOSED, got ${out.kind} ${String((err as Error | undefined)?.message ?? '')}`);
          }
        }
      }
      s.close();
      open.delete(s);
      for (const o of await Promise.all(pending)) {
        if (o.kind !== 'resolved' && o.kind !== 'rejected') throw new Error(`pending recv ended as ${o.kind}`);
      }
    }),
    runs(120),
  );
  await assertNoUnhandled();
  t.pass();
});

test.serial('datagram sizes at and past the limits (IPv4 65,507 / IPv6 65,527), sendTo, send and sendMany', async (t) => {
  const families: Array<[string, number]> = [['127.0.0.1:0', 65_507]];
  if (hasIPv6Loopback) families.push(['[::1]:0', 65_527]);
  for (const [bindAddr, limit] of families) {
    const a = await socket(bindAddr);
    const b = await socket(bindAddr);
    await b.connect(a.localAddr);
    const size = fc.oneof(fc.constantFrom(0, 1, limit - 1, limit, limit + 1, 65_535, 65_536, 70_000, 1 << 20), fc.nat(limit + 100));
    await fc.assert(
      fc.asyncProperty(size, fc.nat(2), async (n, how) => {
        const data = new Uint8Array(n).fill(7);
        const api = `UdpSocket.${['sendTo', 'send', 'sendMany'][how]} (size)`;
        const out = await call(api, () =>
          how === 0 ? b.sendTo(data, a.localAddr) : how === 1 ? b.send(data) : b.sendMany([{ data, address: a.localAddr.address, port: a.localAddr.port }]),
        );
        if (n <= limit) {
          if (out.kind !== 'resolved') throw new Error(`${api} of ${n} bytes (limit ${limit}) failed: ${String((out as { error?: Error }).error?.message)}`);
          const buf = new Uint8Array(70_000);
          const r = await a.recvFrom(buf);
          if (r.bytes !== n) throw new Error(`received ${r.bytes} of ${n} bytes`);
        } else {
          const code = (out as { error?: { code?: string } }).error?.code;
          if (out.kind !== 'rejected' || code !== 'EMSGSIZE') throw new Error(`${api} of ${n} bytes (limit ${limit}): ${out.kind} ${String(code)}`);
        }
      }),
      { ...runs(60), examples: [[limit, 0], [limit + 1, 0], [limit + 1, 1], [limit + 1, 2]] },
    );
    // A receive buffer shorter than the datagram truncates; an empty one consumes it (0 bytes).
    await b.send(new Uint8Array(100));
    t.is((await a.recvFrom(new Uint8Array(10))).bytes, 10);
    await b.send(new Uint8Array(100));
    t.is((await a.recvFrom(new Uint8Array(0))).bytes, 0);
    await b.send('after');
    t.is((await a.recvFrom(new Uint8Array(10))).bytes, 5, 'the 0-byte receive consumed its datagram');
    a.close();
    b.close();
  }
  await assertNoUnhandled();
});

// Regression: errno names missing from the binding's table used to come out as 'EIO' (`send`
// on an unconnected socket rejected with errno -89 under code 'EIO').
test.serial('send() on an unconnected socket rejects EDESTADDRREQ or ENOTCONN', async (t) => {
  const s = await socket();
  const err = (await t.throwsAsync(s.send('x'))) as (Error & { code?: string }) | undefined;
  s.close();
  t.true(err?.code === 'EDESTADDRREQ' || err?.code === 'ENOTCONN', `got ${String(err?.code)} errno ${String((err as { errno?: number } | undefined)?.errno)}`);
});

// Regression, same table: ENOPROTOOPT (an IPv6 group on an IPv4 socket) used to be 'EIO'.
test.serial('joinMulticast(IPv6 group) on an IPv4 socket throws with the matching errno name', async (t) => {
  const s = await socket();
  const err = t.throws(() => s.joinMulticast('ff12::1234', 1)) as (Error & { code?: string; errno?: number }) | undefined;
  s.close();
  t.is(err?.code, 'ENOPROTOOPT', `errno ${String(err?.errno)}`);
});

// Regression: sendMany checked hosts for NUL bytes only in getaddrinfo (ENOTFOUND), unlike
// sendTo/connect/bind, which throw ERR_INVALID_ARG_VALUE before any lookup.
test.serial('sendMany() rejects an address containing a NUL byte as an invalid argument', async (t) => {
  const s = await socket();
  const err = t.throws(() => s.sendMany([{ data: 'x', address: '127.0.0.1\0', port: 9 }])) as (Error & { code?: string }) | undefined;
  s.close();
  t.true(err instanceof TypeError);
  t.is(err?.code, 'ERR_INVALID_ARG_VALUE');
});
