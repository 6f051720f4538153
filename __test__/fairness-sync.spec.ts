/**
 * The sync primitives do not starve the event loop. An operation that can complete at once
 * (a receive with a value queued, a send with room, a lock that is free, a notified() with a
 * stored permit...) returns a settled promise, and a waiter woken by a synchronous call (a send
 * to a waiting receiver, a release to a waiting locker) settles in a microtask: two async
 * functions exchanging values never give Node's event loop a turn on their own. The shared
 * budget of src/internal/sync-budget.ts (1,024 primitive settlements in a row: `CORIO_SYNC_BUDGET`
 * socket calls of 16 units each) defers the next settlement past the event loop's next turn. These tests run such loops and check
 * that a 0-ms timer fires while they run; the loops are bounded (they stop once the timer fired,
 * or after `CAP` rounds, and the test then fails), and nothing is timed.
 *
 * The ordering tests check that deferring settlements keeps what the primitives promise: each
 * operation's effect happens at once, and promises settle in the order the effects happened.
 */

import test from 'ava';
import {
  channel,
  unboundedChannel,
  oneshot,
  broadcast,
  watch,
  Mutex,
  Semaphore,
  Notify,
  JoinSet,
  type OneshotSender,
} from '../src/sync';
import { completedAtOnce, PRIMITIVE_OP } from '../src/internal/sync-budget';
import { timerFlag } from './fixtures/timer-flag';

/** Rounds after which a loop gives up: far more than the budget, so a failing test ends. */
const CAP = 2_000_000;

/** Runs `round` until the timer fired or `CAP` rounds; returns how many rounds ran. */
async function loopUntilTimer(timer: { fired: boolean }, round: (i: number) => Promise<unknown>): Promise<number> {
  let i = 0;
  while (!timer.fired && i < CAP) await round(i++);
  return i;
}

test('bounded mpsc: a producer/consumer pair lets a timer run', async (t) => {
  const [tx, rx] = channel<number>(16);
  const timer = timerFlag();
  const producer = (async () => {
    let i = 0;
    try {
      for (;;) await tx.send(i++);
    } catch (err) {
      t.is((err as { code?: string }).code, 'ERR_CHANNEL_CLOSED');
    }
  })();
  let expected = 0;
  const rounds = await loopUntilTimer(timer, async () => {
    t.is(await rx.recv(), expected++);
  });
  rx.close();
  await producer;
  t.true(timer.fired, `the timer did not run during ${rounds} receives`);
});

test('bounded mpsc: async iteration over a busy producer lets a timer run', async (t) => {
  const [tx, rx] = channel<number>(4);
  const timer = timerFlag();
  const producer = (async () => {
    try {
      for (let i = 0; ; i++) await tx.send(i);
    } catch {
      // the receiver closed
    }
  })();
  let n = 0;
  for await (const v of rx) {
    t.is(v, n);
    if (timer.fired || ++n >= CAP) break;
  }
  await producer;
  t.true(timer.fired, `the timer did not run during ${n} iterations`);
});

test('mpsc: a ping-pong over two bounded channels lets a timer run', async (t) => {
  const [toB, fromA] = channel<number>(1);
  const [toA, fromB] = channel<number>(1);
  const timer = timerFlag();
  const echo = (async () => {
    for (let v = await fromA.recv(); v !== undefined; v = await fromA.recv()) await toA.send(v + 1);
    toA.close();
  })();
  const rounds = await loopUntilTimer(timer, async (i) => {
    await toB.send(i);
    t.is(await fromB.recv(), i + 1);
  });
  toB.close();
  await echo;
  t.true(timer.fired, `the timer did not run during ${rounds} round trips`);
});

test('mpsc: a ping-pong over two unbounded channels (every receive waits) lets a timer run', async (t) => {
  const [toB, fromA] = unboundedChannel<number>();
  const [toA, fromB] = unboundedChannel<number>();
  const timer = timerFlag();
  const echo = (async () => {
    for await (const v of fromA) toA.send(v + 1);
    toA.close();
  })();
  const rounds = await loopUntilTimer(timer, async (i) => {
    toB.send(i);
    t.is(await fromB.recv(), i + 1);
  });
  toB.close();
  await echo;
  t.true(timer.fired, `the timer did not run during ${rounds} round trips`);
});

test('actor: requests over an unbounded mailbox with oneshot replies let a timer run', async (t) => {
  const [mailbox, inbox] = unboundedChannel<{ n: number; reply: OneshotSender<number> }>();
  const timer = timerFlag();
  const actor = (async () => {
    let total = 0;
    for await (const { n, reply } of inbox) reply.send((total += n));
  })();
  let total = 0;
  const rounds = await loopUntilTimer(timer, async (i) => {
    const [reply, answer] = oneshot<number>();
    mailbox.send({ n: i, reply });
    t.is(await answer, (total += i));
  });
  mailbox.close();
  await actor;
  t.true(timer.fired, `the timer did not run during ${rounds} requests`);
});

test('oneshot: receiving a value already sent lets a timer run', async (t) => {
  const timer = timerFlag();
  const rounds = await loopUntilTimer(timer, async (i) => {
    const [tx, rx] = oneshot<number>();
    tx.send(i);
    t.is(await rx, i);
  });
  t.true(timer.fired, `the timer did not run during ${rounds} receives`);
});

test('Mutex: a lock/unlock loop on a free lock lets a timer run', async (t) => {
  const m = new Mutex(0);
  const timer = timerFlag();
  const rounds = await loopUntilTimer(timer, async () => {
    using g = await m.lock();
    g.value++;
  });
  t.is(m.tryLock()!.value, rounds);
  t.true(timer.fired, `the timer did not run during ${rounds} locks`);
});

test('Mutex: two tasks handing the lock to each other let a timer run', async (t) => {
  const m = new Mutex(0);
  const timer = timerFlag();
  const worker = async (): Promise<number> => {
    let n = 0;
    while (!timer.fired && n < CAP) {
      using g = await m.lock();
      g.value++;
      n++;
      // Hold the lock across an await, so the other task queues behind it.
      await Promise.resolve();
    }
    return n;
  };
  const [a, b] = await Promise.all([worker(), worker()]);
  t.true(timer.fired, `the timer did not run during ${a} + ${b} locks`);
});

test('Semaphore: an acquire/release loop with permits available lets a timer run', async (t) => {
  const sem = new Semaphore(3);
  const timer = timerFlag();
  const rounds = await loopUntilTimer(timer, async () => {
    using _p = await sem.acquire(2);
  });
  t.is(sem.availablePermits, 3);
  t.true(timer.fired, `the timer did not run during ${rounds} acquires`);
});

test('Semaphore: rejected acquires on a closed semaphore let a timer run', async (t) => {
  const sem = new Semaphore(1);
  sem.close();
  const timer = timerFlag();
  const rounds = await loopUntilTimer(timer, async () => {
    await t.throwsAsync(sem.acquire(), { code: 'ERR_SEMAPHORE_CLOSED' });
  });
  t.true(timer.fired, `the timer did not run during ${rounds} acquires`);
});

test('Notify: notified() with a stored permit lets a timer run', async (t) => {
  const n = new Notify();
  const timer = timerFlag();
  const rounds = await loopUntilTimer(timer, async () => {
    n.notifyOne();
    await n.notified();
  });
  t.true(timer.fired, `the timer did not run during ${rounds} notifications`);
});

test('Notify: a ping-pong between two waiting tasks lets a timer run', async (t) => {
  const ping = new Notify();
  const pong = new Notify();
  const timer = timerFlag();
  let stop = false;
  const other = (async () => {
    for (;;) {
      await ping.notified();
      if (stop) return;
      pong.notifyOne();
    }
  })();
  const rounds = await loopUntilTimer(timer, async () => {
    ping.notifyOne();
    await pong.notified();
  });
  stop = true;
  ping.notifyOne();
  await other;
  t.true(timer.fired, `the timer did not run during ${rounds} round trips`);
});

test('watch: send then changed() lets a timer run', async (t) => {
  const [tx, rx] = watch(0);
  const timer = timerFlag();
  const rounds = await loopUntilTimer(timer, async (i) => {
    tx.send(i);
    await rx.changed();
    t.is(rx.borrow(), i);
  });
  t.true(timer.fired, `the timer did not run during ${rounds} changes`);
});

test('broadcast: send then recv lets a timer run', async (t) => {
  const [tx, rx] = broadcast<number>(8);
  const timer = timerFlag();
  const rounds = await loopUntilTimer(timer, async (i) => {
    tx.send(i);
    t.is(await rx.recv(), i);
  });
  t.true(timer.fired, `the timer did not run during ${rounds} receives`);
});

test('JoinSet: spawning and joining tasks that finish at once lets a timer run', async (t) => {
  const set = new JoinSet<number>();
  const timer = timerFlag();
  const rounds = await loopUntilTimer(timer, async (i) => {
    set.spawn(() => i);
    const r = await set.joinNext();
    t.true(r?.status === 'fulfilled' && r.value === i);
  });
  t.true(timer.fired, `the timer did not run during ${rounds} joins`);
});

// Ordering past the budget. Each test starts from a renewed budget (the count is shared by the
// whole process) and spends it within one turn (more than the 1,024 units a primitive's
// operations may spend at once), so some settlements are deferred, and checks that the
// promises still settle in the order the operations took effect. Serial, so no other test
// spends the budget meanwhile.

/** Runs a few rounds of microtasks: settlements within the budget happen, deferred ones not. */
async function microtasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Spends the shared budget until a settlement is deferred, and waits for it: the count restarts. */
async function renewedBudget(): Promise<void> {
  for (;;) {
    let settled = false;
    const p = completedAtOnce(undefined, PRIMITIVE_OP).then(() => {
      settled = true;
    });
    await Promise.resolve();
    if (!settled) return p;
  }
}

/** Spends `units` of the budget at once (all settled or deferred, none awaited). */
function spend(units: number): Promise<unknown> {
  return Promise.all(Array.from({ length: units }, () => completedAtOnce(undefined, PRIMITIVE_OP)));
}

test.serial('past the budget, mpsc receives settle in call order (deferred ones before a later waiting one)', async (t) => {
  await renewedBudget();
  const queued = 1_500;
  const [tx, rx] = channel<number>(queued + 1);
  for (let i = 0; i < queued; i++) t.true(tx.trySend(i));
  const settled: number[] = [];
  const calls: Promise<number | undefined>[] = [];
  // All in one turn: the first receives take a queued value at once (their promises settle at
  // once, then deferred past the budget); the last one finds the queue empty and waits.
  for (let i = 0; i <= queued; i++) calls.push(rx.recv().then((v) => (settled.push(i), v)));
  t.is(rx.length, 0, 'every queued value was taken at once');
  t.true(tx.trySend(queued), 'handed to the waiting receive');
  t.is(rx.length, 0, 'a value sent while the receiver waits is handed over directly, not queued');
  await microtasks();
  t.true(settled.length < queued, 'the budget deferred some settlements');
  t.deepEqual(await Promise.all(calls), Array.from({ length: queued + 1 }, (_, i) => i));
  t.deepEqual(settled, Array.from({ length: queued + 1 }, (_, i) => i));
});

test.serial('past the budget, bounded sends settle in call order, waiting ones after the ones with room', async (t) => {
  await renewedBudget();
  const room = 1_100;
  const [tx, rx] = channel<number>(room);
  const settled: number[] = [];
  const sends: Promise<void>[] = [];
  for (let i = 0; i < room + 20; i++) sends.push(tx.send(i).then(() => void settled.push(i)));
  t.is(rx.length, room);
  // Each receive takes a value and moves the oldest waiting send into the queue, at once.
  for (let i = 0; i < 20; i++) t.is(rx.tryRecv(), i);
  t.is(rx.length, room);
  await Promise.all(sends);
  t.deepEqual(settled, Array.from({ length: room + 20 }, (_, i) => i));
  for (let i = 20; i < room + 20; i++) t.is(rx.tryRecv(), i);
});

test.serial('past the budget, Semaphore acquires settle in FIFO order, at once or after waiting', async (t) => {
  await renewedBudget();
  const sem = new Semaphore(1_100);
  const settled: number[] = [];
  const held: Promise<unknown>[] = [];
  for (let i = 0; i < 1_120; i++) held.push(sem.acquire().then((p) => (settled.push(i), p)));
  t.is(sem.availablePermits, 0, 'the first 1,100 took their permits at once');
  sem.addPermits(20); // served to the 20 waiters at once, in order
  t.is(sem.availablePermits, 0);
  await microtasks();
  t.true(settled.length < 1_120, 'the budget deferred some settlements');
  await Promise.all(held);
  t.deepEqual(settled, Array.from({ length: 1_120 }, (_, i) => i));
});

test.serial('past the budget, Notify wakes waiters in FIFO order and a stored permit is consumed at once', async (t) => {
  await renewedBudget();
  const n = new Notify();
  const settled: number[] = [];
  const waits: Promise<void>[] = [];
  for (let i = 0; i < 1_500; i++) waits.push(n.notified().then(() => void settled.push(i)));
  n.notifyWaiters();
  t.is(n.waiterCount, 0, 'every waiter was woken at once');
  n.notifyOne(); // stores a permit
  waits.push(n.notified().then(() => void settled.push(1_500)));
  n.notifyOne(); // stores a permit again: the previous notified() consumed the first at once
  waits.push(n.notified().then(() => void settled.push(1_501)));
  t.is(n.waiterCount, 0);
  await microtasks();
  t.true(settled.length < 1_502, 'the budget deferred some settlements');
  await Promise.all(waits);
  t.deepEqual(settled, Array.from({ length: 1_502 }, (_, i) => i));
});

test.serial('past the budget, a Mutex is handed to its waiters in FIFO order', async (t) => {
  await renewedBudget();
  const m = new Mutex<number[]>([]);
  const locks: Promise<void>[] = [];
  for (let i = 0; i < 1_500; i++) {
    locks.push(
      m.lock().then((g) => {
        g.value.push(i);
        g.release();
      }),
    );
  }
  await Promise.all(locks);
  t.deepEqual(m.tryLock()!.value, Array.from({ length: 1_500 }, (_, i) => i));
});

for (const past of [false, true]) {
  const when = past ? 'past the budget' : 'within the budget';
  test.serial(`${when}, a waiting mpsc receive settles before a later receive that completes at once`, async (t) => {
    await renewedBudget();
    const spent = past ? spend(1_100) : Promise.resolve();
    const [tx, rx] = unboundedChannel<number>();
    const order: string[] = [];
    const first = rx.recv().then((v) => void order.push(`first=${v}`));
    tx.send(1);
    t.is(rx.length, 0, '1 was handed to the waiting receive');
    tx.send(2);
    t.is(rx.length, 1, '2 was queued');
    const second = rx.recv().then((v) => void order.push(`second=${v}`)); // at once
    await Promise.all([first, second, spent]);
    t.deepEqual(order, ['first=1', 'second=2']);
  });

  test.serial(`${when}, a waiting iterator next() settles before a later next() that completes at once`, async (t) => {
    await renewedBudget();
    const spent = past ? spend(1_100) : Promise.resolve();
    const [tx, rx] = unboundedChannel<number>();
    const it = rx[Symbol.asyncIterator]();
    const order: string[] = [];
    const first = it.next().then((r) => void order.push(`first=${r.value}`));
    tx.send(1);
    tx.send(2);
    const second = it.next().then((r) => void order.push(`second=${r.value}`));
    await Promise.all([first, second, spent]);
    t.deepEqual(order, ['first=1', 'second=2']);
  });
}

test.serial('past the budget, a Mutex handed over while the new holder is deferred stays held, and skips a cancelled waiter', async (t) => {
  await renewedBudget();
  const m = new Mutex(0);
  const holder = await m.lock();
  const ac = new AbortController();
  const cancelled = m.lock({ signal: ac.signal });
  const next = m.lock();
  ac.abort();
  await t.throwsAsync(cancelled, { name: 'AbortError' });
  const spent = spend(1_100); // the budget is gone: the next settlement is deferred
  let got = false;
  const handed = next.then((g) => {
    got = true;
    return g;
  });
  holder.release(); // hands the lock to `next`, whose promise settles only after the turn
  await microtasks();
  t.false(got, 'the hand-over settles after the event loop turn');
  t.true(m.isLocked, 'the lock is held by the waiter it was handed to');
  t.is(m.tryLock(), null, 'nobody can take it meanwhile');
  const g = await handed;
  t.true(m.isLocked);
  g.release();
  t.false(m.isLocked);
  await spent;
});
