/**
 * Bad input, sync primitives (issue 5): property-based tests over every public function,
 * constructor, method and option of corio's channels (mpsc, unbounded, oneshot, broadcast,
 * watch), `Semaphore`/`Permit`, `Notify`, `Mutex`/`MutexGuard`, `JoinSet` and the exported error
 * classes. Each case builds fresh objects from random constructor arguments and runs a random
 * sequence of calls with random arguments (values of every type, counts at and past their
 * ranges, option objects that are hostile, Proxies, or carry fresh / aborted / fake signals).
 * Only `TypeError`/`RangeError` with Node's argument codes or documented codes may come out;
 * every wait is forced to end by a finisher (close, notify, release, abort) and must then
 * settle; no unhandled rejection (see `prop-harness.ts`).
 */

import test from 'ava';
import fc from 'fast-check';
import {
  AbortError,
  broadcast,
  ChannelClosedError,
  channel,
  IntervalClosedError,
  JoinSet,
  LaggedError,
  Mutex,
  MutexGuard,
  Notify,
  oneshot,
  Permit,
  ReleasedError,
  Semaphore,
  SemaphoreClosedError,
  StreamMap,
  StreamMapError,
  TimeoutError,
  unboundedChannel,
  watch,
} from '../src';
import { anyValue, assertNoUnhandled, call, count, numberish, options, report, runs, signalValue, throwingProxy } from './prop-harness';

test.after.always((t) => report(t, 'prop-sync'));

/** Arguments every op draws from: a value, a count, an options object. */
type Args = [unknown, unknown, unknown, boolean];
const args: fc.Arbitrary<Args> = fc.tuple(anyValue, numberish(0, 8), options({ signal: signalValue }), fc.boolean());

interface Op<C> {
  name: string;
  run(c: C, a: Args): unknown;
  /** Ends a legitimate wait of `run` (the object may be unusable afterwards). */
  finish?(c: C): unknown;
}

/**
 * One property: make the object(s) from a random constructor argument, run a random sequence
 * of ops, then `end` everything.
 */
async function machine<C>(
  label: string,
  init: fc.Arbitrary<unknown>,
  make: (x: unknown) => C,
  ops: Op<C>[],
  end: (c: C) => unknown,
  numRuns: number,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(init, fc.array(fc.tuple(fc.nat(ops.length - 1), args), { maxLength: 12 }), async (x, seq) => {
      const c = make(x);
      for (const [i, a] of seq) {
        const op = ops[i];
        await call(`${label}.${op.name}`, () => op.run(c, a), op.finish ? () => op.finish!(c) : undefined);
      }
      await call(`${label}.(end)`, () => end(c));
    }),
    runs(numRuns),
  );
  await assertNoUnhandled();
}

/** Calls the constructor/factory with `x`; on a (checked) throw, falls back to `fallback`. */
async function construct<T>(api: string, x: unknown, f: (x: unknown) => T, fallback: () => T): Promise<T> {
  const out = await call(api, () => f(x));
  return out.kind === 'returned' ? (out.value as T) : fallback();
}

test.serial('mpsc channel / unboundedChannel: constructors and every method', async (t) => {
  type C = { tx: ReturnType<typeof channel>[0]; rx: ReturnType<typeof channel>[1]; utx: ReturnType<typeof unboundedChannel>[0]; urx: ReturnType<typeof unboundedChannel>[1] };
  let made!: C;
  await machine<C>(
    'mpsc',
    numberish(1, 4),
    (x) => {
      // The constructor is checked in the property body below via `construct`.
      const [tx, rx] = (() => {
        try {
          return channel(x as number);
        } catch {
          return channel(2);
        }
      })();
      const [utx, urx] = unboundedChannel();
      made = { tx, rx, utx, urx };
      return made;
    },
    [
      { name: 'channel(capacity)', run: (_c, [v, n, , pick]) => (pick ? channel(v as number) : channel(n as number)) },
      { name: 'unboundedChannel(...args)', run: (_c, [v]) => (unboundedChannel as (...a: unknown[]) => unknown)(v) },
      { name: 'Sender.send', run: (c, [v, , o]) => c.tx.send(v, o as never), finish: (c) => c.rx.tryRecv() ?? c.rx.close() },
      { name: 'Sender.trySend', run: (c, [v]) => c.tx.trySend(v) },
      { name: 'Sender.clone', run: (c) => c.tx.clone().close() },
      { name: 'Sender.closed', run: (c, [, , o]) => c.tx.closed(o as never), finish: (c) => c.rx.close() },
      { name: 'Sender.close', run: (c) => c.tx.close() },
      { name: 'Sender.isClosed', run: (c) => c.tx.isClosed },
      { name: 'UnboundedSender.send', run: (c, [v]) => c.utx.send(v) },
      { name: 'UnboundedSender.clone', run: (c) => c.utx.clone().close() },
      { name: 'UnboundedSender.closed', run: (c, [, , o]) => c.utx.closed(o as never), finish: (c) => c.urx.close() },
      { name: 'Receiver.recv', run: (c, [, , o]) => c.rx.recv(o as never), finish: (c) => (c.tx.trySend(1) ? 0 : c.tx.close()) },
      { name: 'Receiver.recv (unbounded)', run: (c, [, , o]) => c.urx.recv(o as never), finish: (c) => c.utx.close() },
      { name: 'Receiver.tryRecv', run: (c) => c.rx.tryRecv() },
      { name: 'Receiver.length', run: (c) => c.urx.length + c.rx.length },
      { name: 'Receiver.close', run: (c) => c.rx.close() },
      { name: 'Receiver[asyncIterator]', run: (c) => c.urx[Symbol.asyncIterator]().next(), finish: (c) => c.utx.close() },
    ],
    (c) => {
      c.tx.close();
      c.utx.close();
      c.rx.close();
      c.urx.close();
    },
    250,
  );
  void made;
  await fc.assert(
    fc.asyncProperty(numberish(1, 2 ** 40), async (cap) => {
      await construct('channel(capacity)', cap, (x) => channel(x as number), () => channel(1));
    }),
    runs(200),
  );
  t.pass();
});

test.serial('oneshot: every method, awaited or not', async (t) => {
  type C = ReturnType<typeof oneshot>;
  await machine<C>(
    'oneshot',
    fc.constant(0),
    () => oneshot(),
    [
      { name: 'OneshotSender.send', run: (c, [v]) => c[0].send(v) },
      { name: 'OneshotSender.close', run: (c) => c[0].close() },
      { name: 'OneshotSender.closed', run: (c, [, , o]) => c[0].closed(o as never), finish: (c) => c[1].close() },
      { name: 'OneshotSender.isClosed', run: (c) => c[0].isClosed },
      { name: 'OneshotReceiver.recv', run: (c, [, , o]) => c[1].recv(o as never), finish: (c) => c[0].close() },
      {
        // Non-callable handlers only: a callback that throws is the caller's error, as with Promise#then.
        name: 'OneshotReceiver.then',
        run: (c, [v, n]) => c[1].then((typeof v === 'function' ? undefined : v) as never, (typeof n === 'function' ? undefined : n) as never),
        finish: (c) => c[0].close(),
      },
      { name: 'OneshotReceiver.tryRecv', run: (c) => c[1].tryRecv() },
      { name: 'OneshotReceiver.close', run: (c) => c[1].close() },
      { name: 'oneshot(...args)', run: (_c, [v]) => (oneshot as (...a: unknown[]) => unknown)(v) },
    ],
    (c) => {
      c[0].close();
      c[1].close();
    },
    250,
  );
  t.pass();
});

test.serial('broadcast: constructor and every method', async (t) => {
  type C = { tx: ReturnType<typeof broadcast>[0]; rx: ReturnType<typeof broadcast>[1] };
  await fc.assert(
    fc.asyncProperty(numberish(1, 2 ** 40), async (cap) => {
      await construct('broadcast(capacity)', cap, (x) => broadcast(x as number), () => broadcast(1));
    }),
    runs(200),
  );
  await machine<C>(
    'broadcast',
    fc.integer({ min: 1, max: 3 }),
    (x) => {
      const [tx, rx] = broadcast(x as number);
      return { tx, rx };
    },
    [
      { name: 'BroadcastSender.send', run: (c, [v]) => c.tx.send(v) },
      { name: 'BroadcastSender.subscribe', run: (c) => c.tx.subscribe().close() },
      { name: 'BroadcastSender.clone', run: (c) => c.tx.clone().close() },
      { name: 'BroadcastSender.close', run: (c) => c.tx.close() },
      { name: 'BroadcastSender.receiverCount', run: (c) => c.tx.receiverCount },
      { name: 'BroadcastReceiver.recv', run: (c, [, , o]) => c.rx.recv(o as never), finish: (c) => c.tx.close() },
      { name: 'BroadcastReceiver.tryRecv', run: (c) => c.rx.tryRecv() },
      { name: 'BroadcastReceiver.resubscribe', run: (c) => c.rx.resubscribe().close() },
      { name: 'BroadcastReceiver.close', run: (c) => c.rx.close() },
      { name: 'BroadcastReceiver.length', run: (c) => c.rx.length },
      { name: 'BroadcastReceiver[asyncIterator]', run: (c) => c.rx[Symbol.asyncIterator]().next(), finish: (c) => c.tx.close() },
    ],
    (c) => {
      c.tx.close();
      c.rx.close();
    },
    250,
  );
  t.pass();
});

test.serial('watch: constructor and every method', async (t) => {
  type C = ReturnType<typeof watch>;
  await machine<C>(
    'watch',
    anyValue,
    (x) => watch(x),
    [
      { name: 'WatchSender.send', run: (c, [v]) => c[0].send(v) },
      { name: 'WatchSender.borrow', run: (c) => c[0].borrow() },
      { name: 'WatchSender.subscribe', run: (c) => c[0].subscribe().close() },
      { name: 'WatchSender.close', run: (c) => c[0].close() },
      { name: 'WatchSender.receiverCount', run: (c) => c[0].receiverCount },
      { name: 'WatchReceiver.borrow', run: (c) => c[1].borrow() },
      { name: 'WatchReceiver.borrowAndUpdate', run: (c) => c[1].borrowAndUpdate() },
      { name: 'WatchReceiver.hasChanged', run: (c) => c[1].hasChanged() },
      { name: 'WatchReceiver.changed', run: (c, [, , o]) => c[1].changed(o as never), finish: (c) => c[0].close() },
      { name: 'WatchReceiver.clone', run: (c) => c[1].clone().close() },
      { name: 'WatchReceiver.close', run: (c) => c[1].close() },
      { name: 'WatchReceiver[asyncIterator]', run: (c) => c[1][Symbol.asyncIterator]().next(), finish: (c) => c[0].close() },
    ],
    (c) => {
      c[0].close();
      c[1].close();
    },
    250,
  );
  t.pass();
});

test.serial('Semaphore / Permit: constructor and every method', async (t) => {
  type C = { sem: Semaphore; permits: Permit[] };
  await fc.assert(
    fc.asyncProperty(numberish(0, Number.MAX_SAFE_INTEGER), async (n) => {
      await construct('new Semaphore(permits)', n, (x) => new Semaphore(x as number), () => new Semaphore(0));
    }),
    runs(200),
  );
  const keep = (c: C, p: unknown): unknown => {
    if (p instanceof Permit) c.permits.push(p);
    return p;
  };
  await machine<C>(
    'Semaphore',
    fc.integer({ min: 0, max: 4 }),
    (x) => ({ sem: new Semaphore(x as number), permits: [] }),
    [
      {
        name: 'acquire',
        run: (c, [v, n, o, pick]) => (pick ? c.sem.acquire(v as never, o as never) : c.sem.acquire(n as never, o as never)).then((p) => keep(c, p)),
        finish: (c) => c.sem.close(),
      },
      { name: 'acquire()', run: (c) => c.sem.acquire().then((p) => keep(c, p)), finish: (c) => c.sem.close() },
      { name: 'tryAcquire', run: (c, [v, n, , pick]) => keep(c, pick ? c.sem.tryAcquire(v as never) : c.sem.tryAcquire(n as never)) },
      { name: 'addPermits', run: (c, [v, n, , pick]) => (pick ? c.sem.addPermits(v as never) : c.sem.addPermits(n as never)) },
      { name: 'availablePermits', run: (c) => c.sem.availablePermits },
      { name: 'close', run: (c) => c.sem.close() },
      { name: 'isClosed', run: (c) => c.sem.isClosed },
      { name: 'Permit.release', run: (c) => c.permits.shift()?.release() },
      { name: 'Permit.forget', run: (c) => c.permits.shift()?.forget() },
      { name: 'Permit.split', run: (c, [v, n, , pick]) => keep(c, c.permits[0]?.split((pick ? v : n) as never)) },
      { name: 'Permit.permits', run: (c) => c.permits[0]?.permits },
      { name: 'Permit release twice', run: (c) => { const p = c.permits.shift(); p?.release(); return p?.release(); } },
    ],
    (c) => {
      c.sem.close();
      for (const p of c.permits) p.release();
    },
    250,
  );
  t.pass();
});

test.serial('Notify and Mutex / MutexGuard: every method', async (t) => {
  await machine<Notify>(
    'Notify',
    anyValue,
    (x) => new (Notify as unknown as new (...a: unknown[]) => Notify)(x),
    [
      { name: 'notified', run: (c, [, , o]) => c.notified(o as never), finish: (c) => c.notifyWaiters() },
      { name: 'notifyOne', run: (c, [v]) => (c.notifyOne as (...a: unknown[]) => void)(v) },
      { name: 'notifyWaiters', run: (c, [v]) => (c.notifyWaiters as (...a: unknown[]) => void)(v) },
      { name: 'waiterCount', run: (c) => c.waiterCount },
    ],
    (c) => c.notifyWaiters(),
    200,
  );
  type C = { m: Mutex<unknown>; guards: MutexGuard<unknown>[] };
  const hold = (c: C, g: unknown): unknown => {
    if (g instanceof MutexGuard) c.guards.push(g);
    return g;
  };
  await machine<C>(
    'Mutex',
    anyValue,
    (x) => ({ m: new Mutex(x), guards: [] }),
    [
      { name: 'lock', run: (c, [, , o]) => c.m.lock(o as never).then((g) => hold(c, g)), finish: (c) => c.guards.shift()?.release() },
      { name: 'tryLock', run: (c) => hold(c, c.m.tryLock()) },
      { name: 'isLocked', run: (c) => c.m.isLocked },
      { name: 'MutexGuard.value get', run: (c) => c.guards[0]?.value },
      { name: 'MutexGuard.value set', run: (c, [v]) => c.guards[0] && (c.guards[0].value = v) },
      { name: 'MutexGuard.release', run: (c) => c.guards.shift()?.release() },
      {
        name: 'MutexGuard after release',
        run: (c) => {
          const g = c.guards.shift();
          g?.release();
          return g?.value;
        },
      },
    ],
    (c) => {
      for (const g of c.guards) g.release();
    },
    250,
  );
  t.pass();
});

test.serial('JoinSet: spawn with any value, joinNext, abortAll, shutdown', async (t) => {
  const fns: Array<() => unknown> = [
    () => () => 1,
    () => () => {
      throw new Error('task threw');
    },
    () => async () => {
      throw new Error('task rejected');
    },
    () => (signal: AbortSignal) =>
      new Promise((resolve, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
    () => () => Promise.resolve(2),
    () => () => ({ then: (res: (v: number) => void) => res(3) }),
  ];
  const fnArb = fc.oneof(fc.integer({ min: 0, max: fns.length - 1 }).map((i) => fns[i]()), anyValue);
  await machine<{ set: JoinSet<unknown>; handles: Array<{ abort(r?: unknown): void }> }>(
    'JoinSet',
    fc.constant(0),
    () => ({ set: new JoinSet(), handles: [] }),
    [
      {
        name: 'spawn',
        run: (c) => {
          // The fn is drawn separately below: ops get an index into `fns` or a non-function.
          const out = c.set.spawn(pendingFn as never);
          c.handles.push(out);
          return out;
        },
      },
      { name: 'spawn(any)', run: (c, [v]) => c.set.spawn(v as never) },
      { name: 'joinNext', run: (c, [, , o]) => c.set.joinNext(o as never), finish: (c) => c.set.abortAll() },
      { name: 'abortAll', run: (c, [v]) => c.set.abortAll(v) },
      { name: 'handle.abort', run: (c, [v]) => c.handles.shift()?.abort(v) },
      { name: 'shutdown', run: (c) => c.set.shutdown() },
      { name: 'size', run: (c) => c.set.size },
      { name: '[asyncIterator]', run: (c) => c.set[Symbol.asyncIterator]().next(), finish: (c) => c.set.abortAll() },
    ],
    (c) => c.set.shutdown(),
    150,
  );
  // spawn with every kind of fn and value.
  await fc.assert(
    fc.asyncProperty(fc.array(fnArb, { maxLength: 6 }), async (list) => {
      const set = new JoinSet<unknown>();
      for (const fn of list) await call('JoinSet.spawn(any)', () => set.spawn(fn as never));
      await call('JoinSet.joinNext', () => set.joinNext(), () => set.abortAll());
      await call('JoinSet.shutdown', () => set.shutdown());
    }),
    runs(200),
  );
  await assertNoUnhandled();
  t.pass();
});

/** A task that waits for its signal (so joinNext must be finished by abortAll). */
const pendingFn = (signal: AbortSignal): Promise<never> =>
  new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

test.serial('exported error classes: constructors with any arguments', async (t) => {
  const classes: Array<[string, new (...a: never[]) => Error, string | undefined]> = [
    ['AbortError', AbortError, 'ABORT_ERR'],
    ['ChannelClosedError', ChannelClosedError, 'ERR_CHANNEL_CLOSED'],
    ['LaggedError', LaggedError, 'ERR_CHANNEL_LAGGED'],
    ['SemaphoreClosedError', SemaphoreClosedError, 'ERR_SEMAPHORE_CLOSED'],
    ['ReleasedError', ReleasedError, 'ERR_RELEASED'],
    ['StreamMapError', StreamMapError, 'ERR_STREAM_MAP_MEMBER'],
    ['TimeoutError', TimeoutError, 'ETIMEDOUT'],
    ['IntervalClosedError', IntervalClosedError, 'ERR_INTERVAL_CLOSED'],
  ];
  await fc.assert(
    fc.asyncProperty(fc.nat(classes.length - 1), anyValue, anyValue, async (i, a, b) => {
      const [name, C, code] = classes[i];
      // A message that cannot become a string makes `new Error(msg)` itself throw a TypeError:
      // the same is allowed here (and nothing else).
      let coercible = true;
      try {
        String(a);
        `${a as string}`;
      } catch {
        coercible = false;
      }
      let out: unknown;
      try {
        out = new (C as new (...x: unknown[]) => Error)(a, b);
      } catch (err) {
        if (!coercible && err instanceof TypeError) return;
        if (err instanceof Error && err.name === 'UserThrown') return; // a throwing `cause` getter
        throw new Error(`new ${name}(...) threw ${String(err)}`);
      } finally {
        count(`new ${name}`);
      }
      if (!(out instanceof Error) || (code !== undefined && (out as { code?: unknown }).code !== code)) {
        throw new Error(`new ${name}(...) made a bad error: code ${String((out as { code?: unknown }).code)}`);
      }
    }),
    runs(400),
  );
  await assertNoUnhandled();
  t.pass();
});

test.serial('found by the properties: broadcast capacity past the longest JS array is a RangeError', (t) => {
  for (const cap of [2 ** 32, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
    t.is((t.throws(() => broadcast(cap)) as Error & { code?: string }).code, 'ERR_OUT_OF_RANGE', `broadcast(${cap})`);
  }
  const [tx, rx] = broadcast<number>(2 ** 32 - 1);
  tx.send(1);
  t.is(rx.tryRecv(), 1);
});

test.serial('found by the properties: StreamMapError accepts keys and causes without a string form', (t) => {
  const key = Object.create(null) as object;
  const err = new StreamMapError(key, Object.create(null));
  t.is(err.key, key);
  t.is(err.code, 'ERR_STREAM_MAP_MEMBER');
});

test.serial('found by the properties: a member failing under a key whose every trap throws rejects next()', async (t) => {
  // seed 1417508497: building the error threw (String() and Object.prototype.toString both hit
  // the Proxy's traps) after the waiting next() had been taken, so it never settled.
  const key = throwingProxy();
  t.notThrows(() => new StreamMapError(key, key));
  const map = new StreamMap<unknown, number>();
  map.insert(key, { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('next rejected')) }) });
  const err = await t.throwsAsync(map.next(), { instanceOf: StreamMapError });
  t.is((err as StreamMapError).key, key);
  t.is(map.size, 0);
  t.deepEqual(await map.next(), { done: true, value: undefined });
});
