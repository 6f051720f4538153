import test from 'ava';
import { Semaphore, Notify, Mutex, JoinSet, SemaphoreClosedError, ReleasedError } from '../src/sync';
import { flush, isPending } from './fixtures/utils-helpers';

const code = (e: unknown) => (e as { code?: string }).code;

test('semaphore: acquire, release, availablePermits, using', async (t) => {
  const sem = new Semaphore(2);
  const a = await sem.acquire();
  t.is(a.permits, 1);
  t.is(sem.availablePermits, 1);
  {
    using b = await sem.acquire();
    t.is(b.permits, 1);
    t.is(sem.availablePermits, 0);
    t.is(sem.tryAcquire(), null);
  }
  t.is(sem.availablePermits, 1);
  a.release();
  a.release(); // idempotent
  t.is(sem.availablePermits, 2);
  const two = sem.tryAcquire(2)!;
  t.is(two.permits, 2);
  const one = two.split(1);
  t.is(two.permits, 1);
  one.release();
  two.forget();
  t.is(sem.availablePermits, 1, 'forgotten permits are gone');
  sem.addPermits(3);
  t.is(sem.availablePermits, 4);
});

test('semaphore: FIFO, a big request at the head blocks later small ones', async (t) => {
  const sem = new Semaphore(2);
  const held = await sem.acquire(2);
  const order: string[] = [];
  const big = sem.acquire(3).then((p) => (order.push('big'), p));
  const small = sem.acquire(1).then((p) => (order.push('small'), p));
  t.is(sem.tryAcquire(1), null, 'tryAcquire does not overtake waiters');
  sem.addPermits(1); // 1 available: not enough for big, and small must not overtake
  await flush();
  t.deepEqual(order, []);
  held.release(); // 3 available
  const b = await big;
  t.deepEqual(order, ['big']);
  t.true(await isPending(small));
  b.release();
  (await small).release();
  t.deepEqual(order, ['big', 'small']);
  t.is(sem.availablePermits, 3);
});

test('semaphore: a cancelled head waiter passes the permits on', async (t) => {
  const sem = new Semaphore(1);
  const held = await sem.acquire();
  const ac = new AbortController();
  const big = sem.acquire(2, { signal: ac.signal });
  const small = sem.acquire(1);
  held.release();
  t.true(await isPending(small), 'blocked behind big');
  ac.abort(new Error('cancel'));
  const err = await t.throwsAsync(big);
  t.is(err!.name, 'AbortError');
  t.is(code(err), 'ABORT_ERR');
  (await small).release();
  t.is(sem.availablePermits, 1, 'the cancelled waiter holds nothing');
  await t.throwsAsync(sem.acquire(1, { signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('semaphore: close rejects pending and future acquires', async (t) => {
  const sem = new Semaphore(0);
  const p = sem.acquire();
  sem.close();
  const err = await t.throwsAsync(p);
  t.true(err instanceof SemaphoreClosedError);
  t.is(code(err), 'ERR_SEMAPHORE_CLOSED');
  await t.throwsAsync(sem.acquire(), { instanceOf: SemaphoreClosedError });
  t.throws(() => sem.tryAcquire(), { instanceOf: SemaphoreClosedError });
  t.true(sem.isClosed);
});

test('semaphore: argument validation', async (t) => {
  t.is(code(t.throws(() => new Semaphore(-1))), 'ERR_OUT_OF_RANGE');
  t.is(code(t.throws(() => new Semaphore('1' as never))), 'ERR_INVALID_ARG_TYPE');
  const sem = new Semaphore(1);
  t.is(code(t.throws(() => sem.acquire(0))), 'ERR_OUT_OF_RANGE');
  t.is(code(t.throws(() => sem.acquire(1, { signal: {} as never }))), 'ERR_INVALID_ARG_TYPE');
  t.is(code(t.throws(() => sem.addPermits(-2))), 'ERR_OUT_OF_RANGE');
  const p = sem.tryAcquire()!;
  p.release();
  t.true(t.throws(() => p.split(1)) instanceof ReleasedError);
});

test('semaphore: limits concurrency', async (t) => {
  const sem = new Semaphore(3);
  let running = 0;
  let max = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      using _p = await sem.acquire();
      running++;
      max = Math.max(max, running);
      await flush();
      running--;
    }),
  );
  t.is(max, 3);
  t.is(sem.availablePermits, 3);
});

test('notify: notifyOne wakes the oldest waiter, or stores one permit', async (t) => {
  const n = new Notify();
  n.notifyOne();
  n.notifyOne(); // permits do not add up
  await n.notified();
  const p = n.notified();
  t.true(await isPending(p));
  const order: number[] = [];
  const a = n.notified().then(() => order.push(1));
  const b = n.notified().then(() => order.push(2));
  t.is(n.waiterCount, 3);
  n.notifyOne();
  await p;
  n.notifyOne();
  await a;
  t.deepEqual(order, [1]);
  n.notifyWaiters();
  await b;
  const q = n.notified();
  t.true(await isPending(q), 'notifyWaiters stores no permit');
  n.notifyOne();
  await q;
});

test('notify: a cancelled waiter does not swallow the notification', async (t) => {
  const n = new Notify();
  const ac = new AbortController();
  const cancelled = n.notified({ signal: ac.signal });
  const other = n.notified();
  ac.abort();
  await t.throwsAsync(cancelled, { name: 'AbortError' });
  n.notifyOne();
  await other;
  const ac2 = new AbortController();
  const c2 = n.notified({ signal: ac2.signal });
  ac2.abort();
  await t.throwsAsync(c2, { name: 'AbortError' });
  n.notifyOne(); // nobody waits: stored
  await n.notified();
  await t.throwsAsync(n.notified({ signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('mutex: exclusive access, FIFO handoff, guard value', async (t) => {
  const m = new Mutex({ n: 0 });
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      using g = await m.lock();
      const v = g.value.n;
      await flush();
      g.value = { n: v + 1 };
    }),
  );
  const g = m.tryLock()!;
  t.is(g.value.n, 20);
  t.true(m.isLocked);
  t.is(m.tryLock(), null);
  g.release();
  g.release();
  t.false(m.isLocked);
  t.throws(() => g.value, { instanceOf: ReleasedError });
});

test('mutex: a cancelled lock() never holds the lock', async (t) => {
  const m = new Mutex(1);
  const g = await m.lock();
  const ac = new AbortController();
  const cancelled = m.lock({ signal: ac.signal });
  const next = m.lock();
  ac.abort();
  await t.throwsAsync(cancelled, { name: 'AbortError' });
  g.release();
  const g2 = await next;
  g2.value = 2;
  g2.release();
  t.false(m.isLocked);
  await t.throwsAsync(m.lock({ signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('joinSet: results in completion order, errors reach the caller', async (t) => {
  const set = new JoinSet<number>();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow = set.spawn(async () => {
    await gate;
    return 1;
  });
  const fail = set.spawn(async () => {
    throw new Error('task failed');
  });
  set.spawn(() => 3);
  set.spawn(() => {
    throw new TypeError('sync');
  });
  t.is(set.size, 4);
  const r1 = await set.joinNext();
  t.is(r1!.status, 'rejected');
  t.is(r1!.id, fail.id);
  t.is(((r1 as { reason: Error }).reason).message, 'task failed');
  const r2 = await set.joinNext();
  t.deepEqual([r2!.status, (r2 as { value: number }).value], ['fulfilled', 3]);
  const r3 = await set.joinNext();
  t.is(r3!.status, 'rejected');
  const p = set.joinNext();
  t.true(await isPending(p));
  release();
  const r4 = await p;
  t.deepEqual(r4, { status: 'fulfilled', value: 1, id: slow.id });
  t.is(await set.joinNext(), undefined);
  t.is(set.size, 0);
});

test('joinSet: abortAll aborts every task signal; iteration; joinNext cancellation', async (t) => {
  const set = new JoinSet<string>();
  const waitAbort = (signal: AbortSignal) =>
    new Promise<string>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
  set.spawn(waitAbort);
  set.spawn(waitAbort);
  const h = set.spawn(waitAbort);
  const ac = new AbortController();
  const cancelled = set.joinNext({ signal: ac.signal });
  ac.abort();
  await t.throwsAsync(cancelled, { name: 'AbortError' });
  h.abort(new Error('just this one'));
  const first = await set.joinNext();
  t.is(((first as { reason: Error }).reason).message, 'just this one');
  set.abortAll(new Error('all'));
  const rest = [];
  for await (const r of set) rest.push(r);
  t.is(rest.length, 2);
  t.true(rest.every((r) => r.status === 'rejected'));
  t.is(set.size, 0);
});

test('joinSet: a failing task never becomes an unhandled rejection, even if never joined', async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const set = new JoinSet<void>();
    set.spawn(async () => {
      throw new Error('nobody joins me');
    });
    await flush();
    await flush();
    t.deepEqual(unhandled, []);
    t.is(set.size, 1);
    await set[Symbol.asyncDispose]();
    t.is(set.size, 0);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  t.is(code(t.throws(() => new JoinSet().spawn(5 as never))), 'ERR_INVALID_ARG_TYPE');
});
