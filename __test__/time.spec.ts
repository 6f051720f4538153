import test from 'ava';
import { sleep, timeout, interval, TimeoutError, IntervalClosedError } from '../src/time';
import { nextDeadline } from '../src/time/interval';
import { isPending } from './fixtures/utils-helpers';

const code = (e: unknown) => (e as { code?: string }).code;
const never = () => new Promise<never>(() => {});

test('sleep resolves; ref: false is accepted', async (t) => {
  await sleep(1);
  await sleep(0, { ref: false });
  t.pass();
});

test('sleep: cancellation rejects with AbortError carrying the reason', async (t) => {
  const ac = new AbortController();
  const p = sleep(60_000, { signal: ac.signal });
  t.true(await isPending(p));
  ac.abort(new Error('stop'));
  const err = await t.throwsAsync(p);
  t.is(err!.name, 'AbortError');
  t.is(code(err), 'ABORT_ERR');
  t.is((err!.cause as Error).message, 'stop');
  await t.throwsAsync(sleep(1, { signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('sleep: argument validation', (t) => {
  t.is(code(t.throws(() => sleep(-1))), 'ERR_OUT_OF_RANGE');
  t.is(code(t.throws(() => sleep(NaN))), 'ERR_OUT_OF_RANGE');
  t.is(code(t.throws(() => sleep(Infinity))), 'ERR_OUT_OF_RANGE');
  t.is(code(t.throws(() => sleep('5' as never))), 'ERR_INVALID_ARG_TYPE');
  t.is(code(t.throws(() => sleep(1, { signal: 1 as never }))), 'ERR_INVALID_ARG_TYPE');
  t.is(code(t.throws(() => sleep(1, { ref: 'no' as never }))), 'ERR_INVALID_ARG_TYPE');
});

test('timeout: passes through the value or the error of a fast operation', async (t) => {
  t.is(await timeout(60_000, Promise.resolve(5)), 5);
  t.is(await timeout(60_000, async (signal) => (signal.aborted ? 0 : 6)), 6);
  await t.throwsAsync(timeout(60_000, Promise.reject(new Error('op'))), { message: 'op' });
  await t.throwsAsync(
    timeout(60_000, () => {
      throw new Error('sync');
    }),
    { message: 'sync' },
  );
});

test('timeout: rejects with TimeoutError (ETIMEDOUT) and aborts the signal it passed', async (t) => {
  const err = await t.throwsAsync(timeout(1, never()));
  t.true(err instanceof TimeoutError);
  t.is(err!.name, 'TimeoutError');
  t.is(code(err), 'ETIMEDOUT');
  let seen: AbortSignal | undefined;
  let lateRejection = false;
  const err2 = await t.throwsAsync(
    timeout(1, (signal) => {
      seen = signal;
      return new Promise((_, reject) =>
        signal.addEventListener('abort', () => {
          lateRejection = true;
          reject(new Error('aborted inside'));
        }),
      );
    }),
  );
  t.true(err2 instanceof TimeoutError);
  t.true(seen!.aborted);
  t.is(seen!.reason, err2);
  t.true(lateRejection, 'the operation was stopped; its rejection was absorbed');
});

test('timeout: an outer signal cancels the operation', async (t) => {
  const ac = new AbortController();
  let inner: AbortSignal | undefined;
  const p = timeout(60_000, (s) => ((inner = s), never()), { signal: ac.signal });
  ac.abort('user');
  const err = await t.throwsAsync(p);
  t.is(err!.name, 'AbortError');
  t.is(err!.cause, 'user');
  t.true(inner!.aborted);
  await t.throwsAsync(timeout(10, Promise.resolve(1), { signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('timeout: argument validation', (t) => {
  t.is(code(t.throws(() => timeout(-1, Promise.resolve()))), 'ERR_OUT_OF_RANGE');
  t.is(code(t.throws(() => timeout(2 ** 31, Promise.resolve()))), 'ERR_OUT_OF_RANGE');
  t.is(code(t.throws(() => timeout(1, 5 as never))), 'ERR_INVALID_ARG_TYPE');
});

test('interval: missed-tick rules (pure schedule computation)', (t) => {
  // on time or within the 5 ms tolerance: the schedule is kept
  for (const b of ['burst', 'delay', 'skip'] as const) {
    t.is(nextDeadline(b, 100, 100, 10), 110);
    t.is(nextDeadline(b, 100, 104, 10), 110);
  }
  // 35 ms late on a 10 ms period
  t.is(nextDeadline('burst', 100, 135, 10), 110, 'burst: catch up on the original schedule');
  t.is(nextDeadline('delay', 100, 135, 10), 145, 'delay: period after the late tick');
  t.is(nextDeadline('skip', 100, 135, 10), 140, 'skip: next slot of the original schedule');
  t.is(nextDeadline('skip', 100, 140, 10), 150);
});

test('interval: the first tick is immediate, burst keeps the schedule', async (t) => {
  const before = performance.now();
  const iv = interval(2);
  const first = await iv.tick();
  t.true(first <= before + 1e-6 || first <= performance.now());
  const ticks = [first];
  for await (const due of iv) {
    ticks.push(due);
    if (ticks.length === 4) break;
  }
  for (let i = 1; i < ticks.length; i++) t.true(Math.abs(ticks[i] - ticks[0] - 2 * i) < 1e-6);
  await t.throwsAsync(iv.tick(), { instanceOf: IntervalClosedError });
  t.deepEqual(await iv.next(), { done: true, value: undefined });
});

test('interval: delay and skip behaviours tick', async (t) => {
  for (const missedTickBehavior of ['delay', 'skip'] as const) {
    using iv = interval(1, { missedTickBehavior });
    t.is(iv.missedTickBehavior, missedTickBehavior);
    const a = await iv.tick();
    const b = await iv.tick();
    t.true(b > a);
  }
});

test('interval: per-tick cancellation keeps the schedule; close settles a pending tick', async (t) => {
  const iv = interval(60_000);
  await iv.tick();
  const ac = new AbortController();
  const p = iv.tick({ signal: ac.signal });
  t.true(await isPending(p));
  ac.abort();
  await t.throwsAsync(p, { name: 'AbortError' });
  const q = iv.tick();
  const n = iv.next();
  t.true(await isPending(q));
  iv.close();
  const err = await t.throwsAsync(q);
  t.is(code(err), 'ERR_INTERVAL_CLOSED');
  t.true((await n).done);
});

test('interval: its own signal closes it with AbortError', async (t) => {
  const ac = new AbortController();
  const iv = interval(60_000, { signal: ac.signal });
  await iv.tick();
  const p = iv.next();
  ac.abort();
  await t.throwsAsync(p, { name: 'AbortError' });
  await t.throwsAsync(interval(5, { signal: AbortSignal.abort() }).tick(), { name: 'AbortError' });
});

test('interval: reset and validation', async (t) => {
  const iv = interval(60_000);
  iv.reset();
  t.true(await isPending(iv.tick()), 'after reset the next tick is a period away');
  iv.close();
  t.is(code(t.throws(() => interval(0))), 'ERR_OUT_OF_RANGE');
  t.is(code(t.throws(() => interval(5, { missedTickBehavior: 'x' as never }))), 'ERR_INVALID_ARG_TYPE');
});
