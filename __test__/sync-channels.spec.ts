import test from 'ava';
import {
  channel,
  unboundedChannel,
  oneshot,
  broadcast,
  watch,
  ChannelClosedError,
  LaggedError,
} from '../src/sync';
import { collect, flush, isPending } from './fixtures/utils-helpers';

const code = (e: unknown) => (e as { code?: string }).code;

test('mpsc: send waits while full and resumes in FIFO order as the receiver drains', async (t) => {
  const [tx, rx] = channel<number>(2);
  await tx.send(1);
  await tx.send(2);
  t.false(tx.trySend(99));
  const s3 = tx.send(3);
  const s4 = tx.send(4);
  t.true(await isPending(s3));
  t.is(rx.length, 2);
  t.is(await rx.recv(), 1);
  await s3;
  t.true(await isPending(s4));
  t.is(rx.tryRecv(), 2);
  await s4;
  tx.close();
  t.deepEqual(await collect(rx), [3, 4]);
  t.is(await rx.recv(), undefined);
});

test('mpsc: the receiver ends only when every sender clone is closed and the queue drained', async (t) => {
  const [tx, rx] = channel<string>(4);
  const tx2 = tx.clone();
  await tx.send('a');
  tx.close();
  const p = collect(rx);
  t.true(await isPending(p));
  await tx2.send('b');
  tx2.close();
  t.deepEqual(await p, ['a', 'b']);
  t.throws(() => tx.clone(), { instanceOf: ChannelClosedError });
  await t.throwsAsync(tx.send('c'), { instanceOf: ChannelClosedError });
});

test('mpsc: closing the receiver rejects pending and later sends with ERR_CHANNEL_CLOSED', async (t) => {
  const [tx, rx] = channel<number>(1);
  await tx.send(1);
  const pending = tx.send(2);
  const closed = tx.closed();
  rx.close();
  const err = await t.throwsAsync(pending);
  t.is(code(err), 'ERR_CHANNEL_CLOSED');
  t.is((err as ChannelClosedError<number>).value, 2);
  await closed;
  t.true(tx.isClosed);
  await t.throwsAsync(tx.send(3), { instanceOf: ChannelClosedError });
  t.throws(() => tx.trySend(3), { instanceOf: ChannelClosedError });
  t.is(await rx.recv(), 1, 'values already queued can still be read');
  t.is(await rx.recv(), undefined);
});

test('mpsc: a waiting recv gets a value sent later; break closes the receiver', async (t) => {
  const [tx, rx] = channel<number>(1);
  const p = rx.recv();
  t.true(await isPending(p));
  await tx.send(7);
  t.is(await p, 7);
  await tx.send(8);
  for await (const v of rx) {
    t.is(v, 8);
    break;
  }
  t.true(tx.isClosed);
});

test('mpsc: cancelled send and recv leave no trace', async (t) => {
  const [tx, rx] = channel<number>(1);
  await tx.send(1);
  const ac = new AbortController();
  const s = tx.send(2, { signal: ac.signal });
  const s3 = tx.send(3);
  ac.abort();
  const err = await t.throwsAsync(s);
  t.is(err!.name, 'AbortError');
  t.is(code(err), 'ABORT_ERR');
  t.is(await rx.recv(), 1);
  await s3;
  t.is(await rx.recv(), 3, 'the cancelled value 2 was never sent');

  const ac2 = new AbortController();
  const r = rx.recv({ signal: ac2.signal });
  ac2.abort('stop');
  const err2 = await t.throwsAsync(r);
  t.is(err2!.cause, 'stop');
  await tx.send(4);
  t.is(await rx.recv(), 4, 'the value did not go to the cancelled receive');
  await t.throwsAsync(rx.recv({ signal: AbortSignal.abort() }), { name: 'AbortError' });
  await t.throwsAsync(tx.send(5, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  await t.throwsAsync(tx.closed({ signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('mpsc: argument validation', (t) => {
  t.is(code(t.throws(() => channel(0))), 'ERR_OUT_OF_RANGE');
  t.is(code(t.throws(() => channel(1.5))), 'ERR_OUT_OF_RANGE');
  t.is(code(t.throws(() => channel('3' as never))), 'ERR_INVALID_ARG_TYPE');
  const [tx] = channel<number>(1);
  t.is(code(t.throws(() => tx.send(1, { signal: 'x' as never }))), 'ERR_INVALID_ARG_TYPE');
});

test('mpsc: many values through a small channel keep their order', async (t) => {
  const [tx, rx] = channel<number>(3);
  const N = 10_000;
  const producer = (async () => {
    for (let i = 0; i < N; i++) await tx.send(i);
    tx.close();
  })();
  let expected = 0;
  for await (const v of rx) t.is(v, expected++) || undefined;
  await producer;
  t.is(expected, N);
});

test('unbounded: send never waits; receiver ends after close', async (t) => {
  const [tx, rx] = unboundedChannel<number>();
  for (let i = 0; i < 1000; i++) tx.send(i);
  const tx2 = tx.clone();
  tx.close();
  tx2.send(1000);
  tx2.close();
  const got = await collect(rx);
  t.is(got.length, 1001);
  t.is(got[1000], 1000);
  t.throws(() => tx2.send(1), { instanceOf: ChannelClosedError });
});

test('oneshot: await the receiver; send once', async (t) => {
  const [tx, rx] = oneshot<string>();
  const p = (async () => await rx)();
  t.true(await isPending(p));
  tx.send('hi');
  t.is(await p, 'hi');
  t.throws(() => tx.send('again'), { instanceOf: ChannelClosedError });
  t.is(rx.tryRecv(), 'hi');
});

test('oneshot: sender closed without sending rejects the receiver; unawaited is harmless', async (t) => {
  const [tx, rx] = oneshot<number>();
  tx.close();
  const err = await t.throwsAsync(rx.recv());
  t.is(code(err), 'ERR_CHANNEL_CLOSED');
  const [tx2] = oneshot<number>();
  tx2.close(); // never awaited: must not become an unhandled rejection
  await flush();
});

test('oneshot: receiver close makes send throw; cancellation keeps the value', async (t) => {
  const [tx, rx] = oneshot<number>();
  const closed = tx.closed();
  const ac = new AbortController();
  const r = rx.recv({ signal: ac.signal });
  ac.abort();
  await t.throwsAsync(r, { name: 'AbortError' });
  tx.send(5);
  t.is(await rx, 5, 'the value is still there after the cancelled receive');
  rx.close();
  await closed;
  t.true(tx.isClosed);
  const [tx3, rx3] = oneshot<number>();
  rx3.close();
  t.throws(() => tx3.send(1), { instanceOf: ChannelClosedError });
});

test('broadcast: every receiver sees every value', async (t) => {
  const [tx, rx1] = broadcast<number>(16);
  const rx2 = tx.subscribe();
  t.is(tx.receiverCount, 2);
  const p1 = collect(rx1);
  const p2 = collect(rx2);
  for (let i = 0; i < 5; i++) t.is(tx.send(i), 2);
  tx.close();
  t.deepEqual(await p1, [0, 1, 2, 3, 4]);
  t.deepEqual(await p2, [0, 1, 2, 3, 4]);
});

test('broadcast: a lagging receiver gets LaggedError with .skipped then continues', async (t) => {
  const [tx, rx] = broadcast<number>(4);
  for (let i = 0; i < 10; i++) tx.send(i);
  const err = await t.throwsAsync(rx.recv());
  t.true(err instanceof LaggedError);
  t.is((err as LaggedError).skipped, 6);
  t.is(code(err), 'ERR_CHANNEL_LAGGED');
  t.is(await rx.recv(), 6);
  t.is(rx.tryRecv(), 7);
  tx.close();
  t.deepEqual(await collect(rx), [8, 9]);
});

test('broadcast: waiting recv, cancellation, late subscribe and close', async (t) => {
  const [tx, rx] = broadcast<string>(2);
  const p = rx.recv();
  const ac = new AbortController();
  const late = tx.subscribe();
  const c = late.recv({ signal: ac.signal });
  t.true(await isPending(p));
  ac.abort();
  await t.throwsAsync(c, { name: 'AbortError' });
  tx.send('x');
  t.is(await p, 'x');
  t.is(await late.recv(), 'x', 'the cancelled receive did not consume the value');
  const p2 = late.recv();
  late.close();
  t.is(await p2, undefined);
  t.is(tx.receiverCount, 1);
  const tx2 = tx.clone();
  tx.close();
  tx2.send('y');
  tx2.close();
  t.deepEqual(await collect(rx), ['y']);
  t.is(code(t.throws(() => broadcast(0))), 'ERR_OUT_OF_RANGE');
});

test('watch: borrow, changed, borrowAndUpdate, close', async (t) => {
  const [tx, rx] = watch({ v: 1 });
  t.deepEqual(rx.borrow(), { v: 1 });
  t.false(rx.hasChanged());
  const p = rx.changed();
  t.true(await isPending(p));
  tx.send({ v: 2 });
  await p;
  t.deepEqual(rx.borrow(), { v: 2 });
  tx.send({ v: 3 });
  tx.send({ v: 4 });
  t.true(rx.hasChanged());
  t.deepEqual(rx.borrowAndUpdate(), { v: 4 });
  t.false(rx.hasChanged());
  const rx2 = tx.subscribe();
  t.false(rx2.hasChanged());
  const waiting = rx2.changed();
  tx.send({ v: 5 });
  tx.close();
  await waiting;
  await rx.changed(); // an unseen value is still reported after close
  const err = await t.throwsAsync(rx.changed());
  t.is(code(err), 'ERR_CHANNEL_CLOSED');
  t.throws(() => tx.send({ v: 6 }), { instanceOf: ChannelClosedError });
});

test('watch: pending changed() rejects when the sender closes; cancellation', async (t) => {
  const [tx, rx] = watch(0);
  const ac = new AbortController();
  const c = rx.changed({ signal: ac.signal });
  ac.abort();
  await t.throwsAsync(c, { name: 'AbortError' });
  t.is(tx.receiverCount, 1);
  const p = rx.changed();
  tx.close();
  await t.throwsAsync(p, { instanceOf: ChannelClosedError });
});

test('watch: changed() on a closed receiver says the receiver, not the sender, is closed', async (t) => {
  const [tx, rx] = watch(0);
  const pending = rx.changed();
  rx.close();
  await t.throwsAsync(pending, { instanceOf: ChannelClosedError, message: 'Watch receiver closed' });
  await t.throwsAsync(rx.changed(), { instanceOf: ChannelClosedError, message: 'Watch receiver closed' });
  t.false(tx.isClosed);
});

test('watch: async iteration yields the current value then newer ones, ends on close', async (t) => {
  const [tx, rx] = watch('a');
  const seen: string[] = [];
  const done = (async () => {
    for await (const v of rx) {
      seen.push(v);
      if (v === 'a') tx.send('b');
      else if (v === 'b') tx.close();
    }
  })();
  await done;
  t.deepEqual(seen, ['a', 'b']);
});
