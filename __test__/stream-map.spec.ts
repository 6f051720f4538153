import test from 'ava';
import { Readable } from 'node:stream';
import { StreamMap, StreamMapError } from '../src/stream';
import { unboundedChannel, channel } from '../src/sync';
import { collect, counter, flush, isPending } from './fixtures/utils-helpers';

async function* of<T>(...xs: T[]): AsyncGenerator<T> {
  for (const x of xs) yield x;
}

test('yields [key, value] in arrival order and ends when every stream ended', async (t) => {
  const [ta, ra] = unboundedChannel<string>();
  const [tb, rb] = unboundedChannel<string>();
  const map = new StreamMap<string, string>();
  map.insert('a', ra);
  map.insert('b', rb);
  t.is(map.size, 2);
  const p = map.next();
  t.true(await isPending(p));
  tb.send('b1');
  t.deepEqual((await p).value, ['b', 'b1']);
  const q = map.next();
  ta.send('a1');
  tb.send('b2');
  t.deepEqual((await q).value, ['a', 'a1']);
  t.deepEqual((await map.next()).value, ['b', 'b2']);
  ta.close();
  tb.send('b3');
  tb.close();
  const rest: [string, string][] = [];
  for await (const kv of map) rest.push(kv);
  t.deepEqual(rest, [['b', 'b3']]);
  t.is(map.size, 0);
  t.true((await map.next()).done);
});

test('an empty map ends at once', async (t) => {
  const map = new StreamMap<string, number>();
  t.deepEqual(await collect(map), []);
});

test('works with async generators and Node Readables', async (t) => {
  const map = new StreamMap<string, unknown>();
  map.insert('gen', of(1, 2, 3));
  map.insert('readable', Readable.from(['x', 'y']));
  const got = await collect(map);
  t.deepEqual(got.filter(([k]) => k === 'gen').map(([, v]) => v), [1, 2, 3]);
  t.deepEqual(got.filter(([k]) => k === 'readable').map(([, v]) => v), ['x', 'y']);
  t.is(got.length, 5);
});

test('a waiting next() sees a stream inserted from another async function', async (t) => {
  const [, ra] = unboundedChannel<number>();
  const map = new StreamMap<string, number>();
  map.insert('a', ra);
  const p = map.next();
  t.true(await isPending(p));
  map.insert('b', of(42));
  t.deepEqual((await p).value, ['b', 42]);
});

test('insert and remove from inside the for-await body', async (t) => {
  const map = new StreamMap<string, number>();
  map.insert('a', of(1, 2, 3));
  const seen: [string, number][] = [];
  for await (const [k, v] of map) {
    seen.push([k, v]);
    if (k === 'a' && v === 1) map.insert('b', of(10, 20));
    if (k === 'b' && v === 10) map.remove('a');
  }
  t.deepEqual(seen.filter(([k]) => k === 'b'), [['b', 10], ['b', 20]]);
  t.deepEqual(seen[0], ['a', 1]);
  t.is(map.size, 0);
});

test('insert returns the replaced stream, remove returns the stream as inserted', (t) => {
  const map = new StreamMap<string, number>();
  const s1 = of(1);
  const s2 = of(2);
  t.is(map.insert('k', s1), undefined);
  t.is(map.insert('k', s2), s1);
  t.true(map.has('k'));
  t.deepEqual([...map.keys()], ['k']);
  t.is(map.remove('k'), s2);
  t.is(map.remove('k'), undefined);
  t.false(map.has('k'));
});

test('remove while a pull is pending loses nothing', async (t) => {
  const [tx, rx] = unboundedChannel<number>();
  const map = new StreamMap<string, number>();
  map.insert('a', rx);
  const p = map.next();
  t.true(await isPending(p));
  const removed = map.remove('a')!;
  t.not(removed, undefined);
  t.true((await p).done, 'the map is empty, so the waiting next() ends');
  tx.send(1);
  tx.send(2);
  tx.close();
  t.deepEqual(await collect(removed), [1, 2]);
});

test('remove yields the value already pulled but not yet yielded first', async (t) => {
  const [ta, ra] = unboundedChannel<string>();
  const [tb, rb] = unboundedChannel<string>();
  ta.send('a1');
  tb.send('b1');
  tb.send('b2');
  tb.close();
  const map = new StreamMap<string, string>();
  map.insert('a', ra);
  map.insert('b', rb);
  const first = await map.next();
  t.deepEqual(first.value, ['a', 'a1']);
  await flush(); // b's pull has settled: b1 is buffered inside the map
  const removed = map.remove('b')!;
  t.deepEqual(await collect(removed), ['b1', 'b2']);
  ta.close();
  t.true((await map.next()).done);
});

test('replacing a stream with a buffered value hands that value back', async (t) => {
  const map = new StreamMap<string, number>();
  map.insert('a', of(1, 2));
  map.insert('b', of(7));
  t.deepEqual((await map.next()).value, ['a', 1]);
  await flush();
  const old = map.insert('b', of(8))!;
  t.deepEqual(await collect(old), [7]);
  t.deepEqual(await collect(map), [['a', 2], ['b', 8]].sort() as never);
});

test('fair: always-ready streams are served round-robin', async (t) => {
  const map = new StreamMap<string, number>();
  for (const k of ['x', 'y', 'z']) map.insert(k, counter());
  const counts: Record<string, number> = { x: 0, y: 0, z: 0 };
  let n = 0;
  for await (const [k] of map) {
    counts[k]++;
    if (++n === 300) break;
  }
  for (const k of ['x', 'y', 'z']) t.true(counts[k] >= 99 && counts[k] <= 101, JSON.stringify(counts));
  await map.close();
});

test('fair: an always-ready stream does not starve a slow one', async (t) => {
  const [tx, rx] = channel<string>(10);
  for (let i = 0; i < 5; i++) tx.trySend(`s${i}`);
  tx.close();
  const map = new StreamMap<string, unknown>();
  map.insert('fast', counter());
  map.insert('slow', rx);
  let n = 0;
  const slow: unknown[] = [];
  for await (const [k, v] of map) {
    if (k === 'slow') slow.push(v);
    if (++n === 20) break;
  }
  t.deepEqual(slow, ['s0', 's1', 's2', 's3', 's4']);
  await map.close();
});

test('a throwing stream surfaces with .key and .cause, is removed, and the map stays usable', async (t) => {
  const boom = new Error('boom');
  async function* bad(): AsyncGenerator<number> {
    yield 1;
    throw boom;
  }
  const [tx, rx] = unboundedChannel<number>();
  const map = new StreamMap<string, number>();
  map.insert('bad', bad());
  map.insert('good', rx);
  const seen: [string, number][] = [];
  const err = await t.throwsAsync(async () => {
    for await (const kv of map) seen.push(kv);
  });
  t.true(err instanceof StreamMapError);
  t.is((err as StreamMapError).key, 'bad');
  t.is(err!.cause, boom);
  t.is((err as StreamMapError<string>).code, 'ERR_STREAM_MAP_MEMBER');
  t.deepEqual(seen, [['bad', 1]]);
  t.false(map.has('bad'));
  tx.send(5);
  tx.close();
  t.deepEqual(await collect(map), [['good', 5]]);
});

test('an iterator whose next() throws synchronously is reported like a rejection', async (t) => {
  const map = new StreamMap<string, number>();
  map.insert('sync', {
    [Symbol.asyncIterator]: () => ({
      next(): Promise<IteratorResult<number>> {
        throw new TypeError('sync');
      },
    }),
  });
  const err = await t.throwsAsync(map.next());
  t.is((err as StreamMapError).key, 'sync');
  t.is(map.size, 0);
});

test('close() ends every member and resolves a waiting next()', async (t) => {
  const ended: string[] = [];
  async function* tracked(name: string): AsyncGenerator<number> {
    try {
      yield 1;
      yield 2;
    } finally {
      ended.push(name);
    }
  }
  const [tx, rx] = unboundedChannel<number>();
  const readable = new Readable({ objectMode: true, read() {} });
  const map = new StreamMap<string, unknown>();
  map.insert('g', tracked('g'));
  map.insert('h', tracked('h'));
  map.insert('rx', rx);
  map.insert('readable', readable);
  t.deepEqual((await map.next()).value, ['g', 1]);
  await map.close();
  t.deepEqual(ended.sort(), ['g', 'h']);
  t.true(tx.isClosed, 'the channel receiver was closed');
  t.true(readable.destroyed, 'the Readable was destroyed');
  t.is(map.size, 0);
  // still usable afterwards
  map.insert('again', tracked('again'));
  await map[Symbol.asyncDispose]();
  t.false(map.has('again'));
});

test('close() resolves a waiting next() as done', async (t) => {
  const [, rx] = unboundedChannel<number>();
  const map = new StreamMap<string, number>();
  map.insert('a', rx);
  const p = map.next();
  t.true(await isPending(p));
  await map.close();
  t.true((await p).done);
});

test('clear() empties the map', async (t) => {
  const map = new StreamMap<number, number>();
  map.insert(1, of(1));
  map.insert(2, of(2));
  map.clear();
  t.is(map.size, 0);
  t.true((await map.next()).done);
});

test('next({ signal }) can be cancelled without losing a value', async (t) => {
  const [tx, rx] = unboundedChannel<number>();
  const map = new StreamMap<string, number>();
  map.insert('a', rx);
  const ac = new AbortController();
  const p = map.next({ signal: ac.signal });
  t.true(await isPending(p));
  ac.abort(new Error('why'));
  const err = await t.throwsAsync(p);
  t.is(err!.name, 'AbortError');
  t.is((err as unknown as { code: string }).code, 'ABORT_ERR');
  t.is((err!.cause as Error).message, 'why');
  tx.send(1);
  t.deepEqual((await map.next()).value, ['a', 1]);
  const pre = new AbortController();
  pre.abort();
  await t.throwsAsync(map.next({ signal: pre.signal }), { name: 'AbortError' });
});

test('at most one next() is outstanding per member, even with concurrent map.next() calls', async (t) => {
  let outstanding = 0;
  let max = 0;
  const [tx, rx] = unboundedChannel<number>();
  const member: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({
      async next() {
        outstanding++;
        max = Math.max(max, outstanding);
        try {
          const v = await rx.recv();
          return v === undefined ? { done: true as const, value: undefined } : { done: false as const, value: v };
        } finally {
          outstanding--;
        }
      },
    }),
  };
  const map = new StreamMap<string, number>();
  map.insert('m', member);
  const ps = [map.next(), map.next(), map.next()];
  await flush();
  for (let i = 0; i < 3; i++) tx.send(i);
  const got = (await Promise.all(ps)).map((r) => r.value![1]);
  t.deepEqual(got, [0, 1, 2]);
  t.is(max, 1);
  tx.close();
  t.true((await map.next()).done);
});

test('insert validates the stream argument', (t) => {
  const map = new StreamMap<string, number>();
  const err = t.throws(() => map.insert('x', 5 as never), { instanceOf: TypeError });
  t.is((err as unknown as { code: string }).code, 'ERR_INVALID_ARG_TYPE');
  t.regex(err!.message, /"stream"/);
});
