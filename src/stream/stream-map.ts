/**
 * StreamMap: merge any number of keyed async iterables into one stream of `[key, value]` pairs
 * (tokio-stream's `StreamMap`, seed 004).
 *
 * How it works. Each member has at most one `next()` outstanding at a time. Members are pulled
 * lazily: only while someone waits on the map, and a member whose value was just yielded is
 * pulled again only on the following `next()` of the map. A member whose `next()` settles is
 * appended to a FIFO "ready" queue, so values come out in arrival order, and a member that is
 * always ready re-joins the queue behind those that arrived meanwhile: round-robin among ready
 * members, nobody starves.
 *
 * Removal never loses data: a member removed while it has a value buffered (or a `next()` in
 * flight) comes back from `remove()` wrapped so that this value is yielded first.
 * @module
 */

import { Deque } from '../internal/deque';
import { Waiter, WaitList, park } from '../internal/wait-list';
import { abortError, signalOf } from '../internal/abort';
import { invalidArgType } from '../internal/validate';
import { StreamMapError } from './errors';

/** Options for {@link StreamMap.next}. */
export interface StreamMapNextOptions {
  /** Cancels this wait (rejects with `AbortError`); no value is lost. */
  signal?: AbortSignal;
}

const IDLE = 0;
const PULLING = 1;
const READY = 2;

/** A settled `next()` of a member. */
interface Settled<V> {
  result: IteratorResult<V> | undefined;
  failed: boolean;
  error: unknown;
}

/** @internal */
class Entry<K, V> {
  iterator: AsyncIterator<V> | null = null;
  state = IDLE;
  settled: Settled<V> | null = null;
  removed = false;
  handoff: ((s: Settled<V>) => void) | null = null;

  constructor(
    readonly key: K,
    readonly stream: AsyncIterable<V>,
  ) {}
}

/**
 * A member's fulfilled `next()`, checked as `for await` checks it: a result that is not an
 * object is a `TypeError` of that member (reported as its failure), and `done` is read once
 * here, so a throwing getter is the member's failure too, never an exception in the map.
 */
function settledOf<V>(result: IteratorResult<V>): Settled<V> {
  try {
    if (result === null || (typeof result !== 'object' && typeof result !== 'function')) {
      throw new TypeError(`Iterator result ${result === null ? 'null' : typeof result} is not an object`);
    }
    const r: IteratorResult<V> = result.done ? { done: true, value: result.value } : { done: false, value: result.value };
    return { result: r, failed: false, error: undefined };
  } catch (error) {
    return { result: undefined, failed: true, error };
  }
}

function toResult<V>(s: Settled<V>): IteratorResult<V> {
  if (s.failed) throw s.error;
  return s.result as IteratorResult<V>;
}

/**
 * A member taken out of a StreamMap after its iteration began: yields the value the map had
 * already pulled (if any) first, then continues the same iterator.
 */
class RemovedStream<V> implements AsyncIterableIterator<V> {
  private first: Settled<V> | Promise<Settled<V>> | null;
  private gate: Promise<void> | null = null;

  constructor(
    private readonly it: AsyncIterator<V>,
    first: Settled<V> | Promise<Settled<V>> | null,
  ) {
    this.first = first;
  }

  next(): Promise<IteratorResult<V>> {
    const f = this.first;
    if (f !== null) {
      this.first = null;
      const p = Promise.resolve(f).then(toResult);
      const gate: Promise<void> = p.then(
        () => this.clearGate(gate),
        () => this.clearGate(gate),
      );
      this.gate = gate;
      return p;
    }
    if (this.gate) return this.gate.then(() => this.it.next());
    return this.it.next();
  }

  return(value?: unknown): Promise<IteratorResult<V>> {
    this.first = null;
    if (typeof this.it.return === 'function') return this.it.return(value);
    return Promise.resolve({ done: true, value: value as V });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private clearGate(g: Promise<void>): void {
    if (this.gate === g) this.gate = null;
  }
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return x != null && typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/**
 * Merges keyed async iterables. `for await (const [key, value] of map)` yields values in
 * arrival order, removes streams that end, and finishes when the map is empty. Members can be
 * inserted and removed at any time, also while an iteration waits or from inside its body.
 *
 * A member that throws surfaces as a {@link StreamMapError} (`.key`, `.cause`) from the
 * iteration and is removed; the map stays usable (call `next()` again or start a new
 * `for await`). Breaking out of a `for await` leaves the members in the map: end them with
 * {@link close} (or `await using`).
 */
export class StreamMap<K, V> implements AsyncIterable<[K, V]>, AsyncDisposable {
  /** @internal */ private readonly members = new Map<K, Entry<K, V>>();
  /** @internal */ private readonly idle = new Deque<Entry<K, V>>();
  /** @internal */ private readonly ready = new Deque<Entry<K, V>>();
  /** @internal */ private readonly waiters = new WaitList<Waiter<IteratorResult<[K, V]>>>();

  /** Number of member streams. */
  get size(): number {
    return this.members.size;
  }

  /** True if a stream is registered under `key`. */
  has(key: K): boolean {
    return this.members.has(key);
  }

  /** The keys, in insertion order. */
  keys(): IterableIterator<K> {
    return this.members.keys();
  }

  /**
   * Adds `stream` under `key`. If `key` was taken, the previous stream is removed and returned
   * as {@link remove} would; otherwise returns `undefined`. A waiting `next()` starts pulling
   * the new stream at once.
   */
  insert(key: K, stream: AsyncIterable<V>): AsyncIterable<V> | undefined {
    if (!isAsyncIterable(stream)) throw invalidArgType('stream', 'an AsyncIterable', stream);
    const old = this.members.get(key);
    let out: AsyncIterable<V> | undefined;
    if (old) {
      this.members.delete(key);
      out = this.detach(old);
    }
    const e = new Entry<K, V>(key, stream);
    this.members.set(key, e);
    this.idle.push(e);
    if (this.waiters.size > 0) this.pump();
    return out;
  }

  /**
   * Removes the stream under `key` without ending it and returns it, or `undefined`. If the map
   * had already pulled a value from it that was not yet yielded (or has a pull in flight), the
   * returned iterable yields that value first, then continues the stream; otherwise the original
   * stream is returned as it was inserted when possible.
   */
  remove(key: K): AsyncIterable<V> | undefined {
    const e = this.members.get(key);
    if (!e) return undefined;
    this.members.delete(key);
    const out = this.detach(e);
    if (this.members.size === 0) this.dispatch();
    return out;
  }

  /**
   * Removes every member and ends it, without waiting: calls its iterator's `return()` (and
   * `destroy()` when the member is a Node stream, since an async generator queues `return()`
   * behind a pending read). Values pulled but not yet yielded are dropped. Pending `next()`
   * calls resolve as done.
   */
  clear(): void {
    void this.endAll();
  }

  /**
   * Like {@link clear}, and resolves once the `return()` of every member that had no read in
   * flight has settled (errors from `return()` are ignored). The map stays usable.
   */
  close(): Promise<void> {
    return this.endAll();
  }

  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * The next `[key, value]`, or `{ done: true }` when the map is (or becomes) empty. Rejects
   * with {@link StreamMapError} when a member throws, with `AbortError` if `signal` aborts.
   */
  next(options?: StreamMapNextOptions): Promise<IteratorResult<[K, V]>> {
    const signal = signalOf(options);
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const p = park<IteratorResult<[K, V]>, Waiter<IteratorResult<[K, V]>>>(
      this.waiters,
      new Waiter<IteratorResult<[K, V]>>(),
      signal,
    );
    this.pump();
    this.dispatch();
    return p;
  }

  /**
   * Iterates `[key, value]` pairs. The iterator's `return()` (e.g. `break`) does not end the
   * members; several iterations may run concurrently and share the values.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<[K, V]> {
    const it: AsyncIterableIterator<[K, V]> = {
      next: () => this.next(),
      return: (value?: unknown) => Promise.resolve({ done: true, value: value as [K, V] }),
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  /** @internal Starts a pull on every idle member. */
  private pump(): void {
    let e: Entry<K, V> | undefined;
    while ((e = this.idle.shift())) {
      if (!e.removed && e.state === IDLE) this.pull(e);
    }
  }

  /** @internal */
  private pull(e: Entry<K, V>): void {
    e.state = PULLING;
    let p: PromiseLike<IteratorResult<V>>;
    try {
      if (!e.iterator) e.iterator = e.stream[Symbol.asyncIterator]();
      p = e.iterator.next();
    } catch (err) {
      p = Promise.reject(err);
    }
    Promise.resolve(p).then(
      (result) => this.onSettled(e, settledOf(result)),
      (error) => this.onSettled(e, { result: undefined, failed: true, error }),
    );
  }

  /** @internal */
  private onSettled(e: Entry<K, V>, s: Settled<V>): void {
    if (e.removed) {
      const h = e.handoff;
      e.handoff = null;
      h?.(s);
      return;
    }
    e.state = READY;
    e.settled = s;
    this.ready.push(e);
    this.dispatch();
  }

  /** @internal Matches ready members with waiting `next()` calls. */
  private dispatch(): void {
    let delivered = false;
    while (this.waiters.size > 0) {
      const e = this.ready.shift();
      if (!e) {
        if (this.members.size === 0) {
          for (const w of this.waiters.drain()) w.resolve({ done: true, value: undefined });
        }
        break;
      }
      if (e.removed) continue;
      const s = e.settled as Settled<V>;
      e.settled = null;
      if (s.failed) {
        this.members.delete(e.key);
        e.removed = true;
        // Built before a waiter is taken: were it to throw, no waiter would be lost.
        const error = new StreamMapError(e.key, s.error);
        this.waiters.shift()!.reject(error);
      } else if (s.result!.done) {
        this.members.delete(e.key);
        e.removed = true;
      } else {
        e.state = IDLE;
        this.idle.push(e);
        delivered = true;
        this.waiters.shift()!.resolve({ done: false, value: [e.key, s.result!.value] });
      }
    }
    if (delivered && this.waiters.size > 0) this.pump();
  }

  /** @internal Takes `e` out; returns what `remove` hands back. */
  private detach(e: Entry<K, V>): AsyncIterable<V> {
    e.removed = true;
    const it = e.iterator;
    if (!it) return e.stream;
    if (e.state === READY) {
      const s = e.settled as Settled<V>;
      e.settled = null;
      return new RemovedStream(it, s);
    }
    if (e.state === PULLING) {
      return new RemovedStream(
        it,
        new Promise<Settled<V>>((resolve) => {
          e.handoff = resolve;
        }),
      );
    }
    return (it as unknown) === e.stream ? e.stream : new RemovedStream(it, null);
  }

  /** @internal */
  private endAll(): Promise<void> {
    const entries = [...this.members.values()];
    this.members.clear();
    this.idle.clear();
    this.ready.clear();
    const done: Promise<unknown>[] = [];
    for (const e of entries) {
      e.removed = true;
      e.settled = null;
      try {
        const it = e.iterator ?? e.stream[Symbol.asyncIterator]();
        if (typeof it.return === 'function') {
          const r = Promise.resolve(it.return());
          // An async generator queues return() behind a next() in flight, which may never
          // settle (a socket with no data): only wait for members that are not mid-pull.
          if (e.state === PULLING) r.catch(() => {});
          else done.push(r);
        }
        // Node streams: destroy() ends them even while a read is pending.
        const d = (e.stream as { destroy?: unknown }).destroy;
        if (typeof d === 'function') d.call(e.stream);
      } catch {
        // A member that cannot be ended is simply dropped.
      }
    }
    this.dispatch();
    return Promise.allSettled(done).then(() => undefined);
  }
}
