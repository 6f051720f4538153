/**
 * Bad input, the runtime (issue 5): `runtime.configure` and `runtime.metrics` with random
 * arguments before and after the runtime started, and — in this file's own process, at its end
 * — `runtime.shutdown()` with operations pending, followed by random calls across the socket
 * API: everything settles, and only argument errors, `ERR_RUNTIME_SHUTDOWN`,
 * `ERR_SOCKET_CLOSED` or other documented codes come out (see `prop-harness.ts`).
 */

import test from 'ava';
import fc from 'fast-check';
import { runtime, TcpListener, TcpStream, UdpSocket } from '../src';
import { addressArb, anyValue, assertNoUnhandled, bufferish, call, numberish, options, portValue, report, runs } from './prop-harness';

test.after.always((t) => report(t, 'prop-runtime'));

/** Valid thread counts above 4 are folded down: the runtime starts with what was set last. */
const threads = numberish(1, 1024).map((v) => (typeof v === 'number' && Number.isInteger(v) && v > 4 && v <= 1024 ? (v % 4) + 1 : v));

const METRIC_KEYS = ['workers', 'aliveTasks', 'globalQueueDepth', 'pendingOps', 'refs', 'completions', 'wakeups'];

function checkMetrics(m: unknown): void {
  for (const k of METRIC_KEYS) {
    const v = (m as Record<string, unknown>)[k];
    if (typeof v !== 'number' || !(v >= 0)) throw new Error(`metrics().${k} is ${String(v)}`);
  }
}

test.serial('configure / metrics before the runtime starts, then after', async (t) => {
  await fc.assert(
    fc.asyncProperty(options({ workerThreads: threads }), anyValue, async (o, extra) => {
      await call('runtime.configure (not started)', () => runtime.configure(o as never));
      const out = await call('runtime.metrics', () => (runtime.metrics as (...a: unknown[]) => unknown)(extra));
      if (out.kind === 'returned') checkMetrics(out.value);
    }),
    runs(200),
  );
  runtime.configure({ workerThreads: 2 });
  // Start it.
  const s = await UdpSocket.bind('127.0.0.1:0');
  s.close();
  await fc.assert(
    fc.asyncProperty(options({ workerThreads: threads }), async (o) => {
      const out = await call('runtime.configure (started)', () => runtime.configure(o as never));
      if (out.kind === 'returned') throw new Error('configure succeeded after the runtime started');
    }),
    runs(200),
  );
  checkMetrics(runtime.metrics());
  t.true(runtime.metrics().workers >= 1);
  await assertNoUnhandled();
});

const shutdown = (runtime as { shutdown?: (...a: unknown[]) => Promise<void> }).shutdown;

test.serial('shutdown with operations pending; then random calls across the API', async (t) => {
  if (typeof shutdown !== 'function') {
    t.pass('runtime.shutdown is not part of this build');
    return;
  }
  const listener = await TcpListener.bind('127.0.0.1:0');
  const acc = listener.accept();
  const client = await TcpStream.connect(listener.localAddr);
  const server = await acc;
  const accepting = call('TcpListener.accept (pending at shutdown)', () => listener.accept());
  const reading = call('TcpStream.read (pending at shutdown)', () => client.read(new Uint8Array(8)));
  const udp = await UdpSocket.bind('127.0.0.1:0');
  const receiving = call('UdpSocket.recvFrom (pending at shutdown)', () => udp.recvFrom(new Uint8Array(8)));
  await call('runtime.shutdown', () => shutdown(1, {}));
  const pending = await Promise.all([accepting, reading, receiving]);
  for (const o of pending) {
    t.is(o.kind, 'rejected', 'an operation pending at shutdown settles with an error');
    if (o.kind === 'rejected') t.is((o.error as { code?: unknown }).code, 'ERR_RUNTIME_SHUTDOWN');
  }
  t.is(runtime.metrics().workers, 0, 'no workers once the runtime is shut down');
  await call('runtime.shutdown (again)', () => shutdown());
  await fc.assert(
    fc.asyncProperty(fc.nat(7), addressArb(portValue), bufferish, anyValue, async (which, addr, buf, v) => {
      switch (which) {
        case 0:
          await call('TcpListener.bind (after shutdown)', () => TcpListener.bind(addr as never));
          break;
        case 1:
          await call('TcpStream.connect (after shutdown)', () => TcpStream.connect(addr as never));
          break;
        case 2:
          await call('TcpStream.read (after shutdown)', () => client.read(buf as never));
          break;
        case 3:
          await call('TcpStream.writeAll (after shutdown)', () => client.writeAll(buf as never));
          break;
        case 4:
          await call('UdpSocket.bind (after shutdown)', () => UdpSocket.bind(addr as never));
          break;
        case 5:
          await call('UdpSocket.sendTo (after shutdown)', () => udp.sendTo(buf as never, addr as never));
          break;
        case 6:
          await call('runtime.configure (after shutdown)', () => runtime.configure(v as never));
          break;
        case 7:
          await call('listener.accept (after shutdown)', () => listener.accept());
          break;
      }
    }),
    runs(200),
  );
  client.close();
  server.close();
  listener.close();
  udp.close();
  await assertNoUnhandled();
});
