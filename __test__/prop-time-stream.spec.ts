/**
 * Bad input, time utilities and StreamMap (issue 5): property-based tests over every argument
 * and option of `sleep`, `timeout`, `interval` (and `Interval`'s methods) and `StreamMap`.
 * Random values of every type, numbers at and past their ranges, hostile option objects and
 * signals (fresh, aborted, fake). Only `TypeError`/`RangeError` with Node's argument codes or
 * documented codes may come out; every wait ends (finisher) and settles; no unhandled
 * rejection (see `prop-harness.ts`). No timing assertions: delays are only bounded.
 */

import test from 'ava';
import fc from 'fast-check';
import { channel, interval, Interval, sleep, StreamMap, timeout } from '../src';
import { anyValue, assertNoUnhandled, call, numberish, options, report, runs, signalValue, UserThrown } from './prop-harness';

test.after.always((t) => report(t, 'prop-time-stream'));

/** A valid delay longer than this is swapped for a short one, unless a finisher can abort it. */
const SHORT = 20;
const shortMs = numberish(0, SHORT).map((v) => (typeof v === 'number' && Number.isFinite(v) && v > SHORT ? v % SHORT : v));

test.serial('sleep: random delays and options', async (t) => {
  const opts = options({ signal: signalValue, ref: fc.boolean() });
  await fc.assert(
    fc.asyncProperty(shortMs, opts, async (ms, o) => {
      await call('sleep', () => sleep(ms as never, o as never));
    }),
    runs(250),
  );
  // Long and huge delays (chained past Node's 2^31-1 ms timer limit) end by their signal.
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.double({ min: 2 ** 31, max: Number.MAX_VALUE, noNaN: true }), fc.constantFrom(2 ** 31 - 1, 2 ** 31, Number.MAX_VALUE, 1e300)), fc.boolean(), async (ms, ref) => {
      const ac = new AbortController();
      const out = await call('sleep (long, aborted)', () => sleep(ms, { signal: ac.signal, ref }), () => ac.abort());
      if (out.kind !== 'rejected' || (out.error as { code?: unknown }).code !== 'ABORT_ERR') throw new Error(`long sleep ended as ${out.kind}`);
    }),
    runs(50),
  );
  await assertNoUnhandled();
  t.pass();
});

test.serial('timeout: random delays, operations and options', async (t) => {
  const ops: Array<() => unknown> = [
    () => Promise.resolve(1),
    () => {
      const p = Promise.reject(new UserThrown('op rejected'));
      p.catch(() => {});
      return p;
    },
    () => () => 2,
    () => () => {
      throw new UserThrown('op threw');
    },
    () => async () => {
      throw new UserThrown('op rejected async');
    },
    () => ({ then: (res: (v: number) => void) => res(3) }),
    () => ({ then: 'not a function' }),
    () => ({ then: (_res: unknown, rej: (e: unknown) => void) => rej(new UserThrown('thenable rejected')) }),
  ];
  // Functions come from `ops` only: what a caller's own function throws is its own error.
  const op = fc.oneof(fc.integer({ min: 0, max: ops.length - 1 }).map((i) => ops[i]()), anyValue.filter((v) => typeof v !== 'function'));
  const opts = options({ signal: signalValue });
  await fc.assert(
    fc.asyncProperty(numberish(0, 2 ** 31 - 1), op, opts, async (ms, operation, o) => {
      await call('timeout', () => timeout(ms as never, operation as never, o as never));
    }),
    runs(300),
  );
  // An operation that waits for its signal ends by the timeout (short) or the outer signal.
  await fc.assert(
    fc.asyncProperty(shortMs, fc.boolean(), async (ms, outer) => {
      const ac = new AbortController();
      const waiting = (signal: AbortSignal): Promise<never> =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
      await call('timeout (waiting op)', () => timeout(ms as never, waiting, outer ? { signal: ac.signal } : undefined), () => ac.abort());
    }),
    runs(100),
  );
  await assertNoUnhandled();
  t.pass();
});

test.serial('interval: random periods and options; every Interval method', async (t) => {
  const opts = options({
    missedTickBehavior: fc.constantFrom('burst', 'delay', 'skip', 'Burst', '', 'none'),
    signal: signalValue,
    ref: fc.boolean(),
  });
  const tickOpts = options({ signal: signalValue });
  await fc.assert(
    fc.asyncProperty(numberish(0, 50), opts, fc.array(fc.tuple(fc.nat(6), tickOpts, anyValue), { maxLength: 8 }), async (ms, o, seq) => {
      const out = await call('interval', () => interval(ms as never, o as never));
      if (out.kind !== 'returned') return;
      const iv = out.value as Interval;
      for (const [which, to, v] of seq) {
        switch (which) {
          case 0:
          case 1:
            // The first tick is immediate; later ones end by `close()` at the latest.
            await call('Interval.tick', () => iv.tick(to as never), () => iv.close());
            break;
          case 2:
            await call('Interval.reset', () => (iv.reset as (...a: unknown[]) => void)(v));
            break;
          case 3:
            await call('Interval.close', () => (iv.close as (...a: unknown[]) => void)(v));
            break;
          case 4:
            await call('Interval.next', () => iv.next(), () => iv.close());
            break;
          case 5:
            await call('Interval.return', () => iv.return());
            break;
          case 6:
            await call('Interval[Symbol.dispose]', () => iv[Symbol.dispose]());
            break;
        }
      }
      iv.close();
    }),
    runs(200),
  );
  await assertNoUnhandled();
  t.pass();
});

test.serial('StreamMap: random keys, members and options; every method', async (t) => {
  async function* finite(n: number): AsyncGenerator<number> {
    for (let i = 0; i < n; i++) yield i;
  }
  async function* failing(): AsyncGenerator<number> {
    yield 1;
    throw new Error('member failed');
  }
  async function* forever(): AsyncGenerator<number> {
    await new Promise(() => {}); // waits until the map ends it
    yield 0;
  }
  const members: Array<() => unknown> = [
    () => finite(3),
    () => finite(0),
    () => failing(),
    () => forever(),
    () => {
      const [tx, rx] = channel<number>(4);
      tx.trySend(7);
      tx.close();
      return rx;
    },
    () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ done: true, value: undefined }) }) }),
    () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('next rejected')) }) }),
    () => ({ [Symbol.asyncIterator]: () => ({ next: () => { throw new Error('next threw'); } }) }),
    () => ({ [Symbol.asyncIterator]: () => 42 }),
    () => ({ [Symbol.asyncIterator]: 'no' }),
    () => [1, 2, 3],
  ];
  const member = fc.oneof(fc.integer({ min: 0, max: members.length - 1 }).map((i) => members[i]()), anyValue);
  const key = fc.oneof(fc.constantFrom('a', 'b', 1, NaN, -0, 0), anyValue);
  const nextOpts = options({ signal: signalValue });
  await fc.assert(
    fc.asyncProperty(anyValue, fc.array(fc.tuple(fc.nat(8), key, member, nextOpts), { maxLength: 10 }), async (ctorArg, seq) => {
      const out = await call('new StreamMap', () => new (StreamMap as unknown as new (...a: unknown[]) => StreamMap<unknown, unknown>)(ctorArg));
      const map = out.kind === 'returned' ? (out.value as StreamMap<unknown, unknown>) : new StreamMap<unknown, unknown>();
      for (const [which, k, m, o] of seq) {
        switch (which) {
          case 0:
          case 1:
            await call('StreamMap.insert', () => map.insert(k, m as never));
            break;
          case 2:
            await call('StreamMap.remove', () => map.remove(k));
            break;
          case 3:
            await call('StreamMap.has/keys/size', () => [map.has(k), [...map.keys()], map.size]);
            break;
          case 4:
          case 5:
            // A waiting next() ends when the map is cleared.
            await call('StreamMap.next', () => map.next(o as never), () => map.clear());
            break;
          case 6:
            await call('StreamMap.clear', () => map.clear());
            break;
          case 7:
            await call('StreamMap.close', () => map.close());
            break;
          case 8:
            await call('StreamMap[asyncIterator]', () => map[Symbol.asyncIterator]().next(), () => map.clear());
            break;
        }
      }
      await call('StreamMap[asyncDispose]', () => map[Symbol.asyncDispose]());
    }),
    runs(250),
  );
  await assertNoUnhandled();
  t.pass();
});

test.serial('found by the properties: Interval.close(arg) ignores its argument; ticks reject IntervalClosedError', async (t) => {
  for (const arg of [new Set(), 0, '', false, new Error('mine')]) {
    const iv = interval(1000);
    await iv.tick(); // the first tick is immediate
    (iv.close as (a: unknown) => void)(arg);
    const err = await t.throwsAsync(iv.tick());
    t.is((err as Error & { code?: string }).code, 'ERR_INTERVAL_CLOSED', `close(${String(arg)})`);
    t.deepEqual(await iv.next(), { done: true, value: undefined });
  }
});

test.serial('found by the properties: a StreamMap member keyed by a null-prototype object fails with StreamMapError', async (t) => {
  const map = new StreamMap<object, number>();
  const key = Object.create(null) as object;
  map.insert(key, (async function* () {
    throw new Error('member failed');
  })());
  const err = await t.throwsAsync(map.next());
  t.is((err as Error & { code?: string }).code, 'ERR_STREAM_MAP_MEMBER');
  t.is((err as Error & { key?: unknown }).key, key);
  await map.close();
});
