/**
 * A set of concurrently running tasks whose results are collected in completion order:
 * tokio's `JoinSet`.
 *
 * Each task gets its own `AbortSignal` so `abortAll()` can cancel the group. Results are
 * settled-style records (`{ status: 'fulfilled', value } | { status: 'rejected', reason }`,
 * as from `Promise.allSettled`), so a failing task's error reaches whoever joins it and,
 * because handlers are attached when the task is spawned, never becomes an unhandled rejection.
 *
 * `joinNext` and async iteration spend the budget the sync primitives share with UDP's fast path
 * (see `sync/index.ts`): past 1,024 settlements in a row an operation still takes effect at once,
 * but its promise settles after the event loop's next turn, so a loop of them cannot starve timers
 * and I/O.
 * @module
 */

import { Deque } from '../internal/deque';
import { CoopWaiter, WaitList, park } from '../internal/wait-list';
import { completedAtOnce, failedAtOnce, PRIMITIVE_OP } from '../internal/sync-budget';
import { abortError, signalOf } from '../internal/abort';
import { validateFunction } from '../internal/validate';
import type { WaitOptions } from './mpsc';

/** The outcome of one task, tagged like `Promise.allSettled` results. */
export type JoinResult<T> =
  | {
      /** The task's promise fulfilled. */
      status: 'fulfilled';
      /** What the task returned. */
      value: T;
      /** The task's id ({@link TaskHandle.id}). */
      id: number;
    }
  | {
      /** The task threw or its promise rejected. */
      status: 'rejected';
      /** What the task threw or rejected with. */
      reason: unknown;
      /** The task's id ({@link TaskHandle.id}). */
      id: number;
    };

/** Lets the owner of a spawned task cancel it. */
export interface TaskHandle {
  /** Identifies the task in its {@link JoinResult}. */
  readonly id: number;
  /** Aborts the task's signal (its result is still collected). */
  abort(reason?: unknown): void;
}

let nextId = 1;

/** A group of tasks; join their results in completion order. */
export class JoinSet<T> implements AsyncIterable<JoinResult<T>>, AsyncDisposable {
  /** @internal */ private readonly running = new Map<number, AbortController>();
  /** @internal */ private readonly done = new Deque<JoinResult<T>>();
  /** @internal */ private readonly waiters = new WaitList<CoopWaiter<JoinResult<T> | undefined>>();

  /** Tasks spawned and not yet joined (running or finished). */
  get size(): number {
    return this.running.size + this.done.length;
  }

  /**
   * Starts `fn(signal)` now. A synchronous throw counts as a rejection. The signal aborts on
   * `abortAll()`, on `handle.abort()`, or when the set is disposed.
   */
  spawn(fn: (signal: AbortSignal) => T | PromiseLike<T>): TaskHandle {
    validateFunction(fn, 'fn');
    const id = nextId++;
    const ac = new AbortController();
    this.running.set(id, ac);
    let p: Promise<T>;
    try {
      p = Promise.resolve(fn(ac.signal));
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (value) => this.finish({ status: 'fulfilled', value, id }),
      (reason) => this.finish({ status: 'rejected', reason, id }),
    );
    return { id, abort: (reason?: unknown) => ac.abort(reason) };
  }

  /**
   * The next finished task's result, waiting if needed; `undefined` when the set is empty.
   * Rejects with `AbortError` if `signal` aborts (no result is lost).
   */
  joinNext(options?: WaitOptions): Promise<JoinResult<T> | undefined> {
    const signal = signalOf(options);
    if (signal?.aborted) return failedAtOnce(abortError(signal), PRIMITIVE_OP);
    const r = this.done.shift();
    if (r) return completedAtOnce(r, PRIMITIVE_OP);
    if (this.running.size === 0) return completedAtOnce(undefined, PRIMITIVE_OP);
    return park(this.waiters, new CoopWaiter<JoinResult<T> | undefined>(), signal);
  }

  /** Aborts every running task's signal. Their results are still joined. */
  abortAll(reason?: unknown): void {
    for (const ac of this.running.values()) ac.abort(reason);
  }

  /** Aborts every task and waits for all of them, discarding the results. */
  async shutdown(): Promise<void> {
    this.abortAll();
    while ((await this.joinNext()) !== undefined);
  }

  /** Same as {@link shutdown}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  /** Yields results in completion order until the set is empty. */
  async *[Symbol.asyncIterator](): AsyncGenerator<JoinResult<T>, void, undefined> {
    let r: JoinResult<T> | undefined;
    while ((r = await this.joinNext()) !== undefined) yield r;
  }

  /** @internal */
  private finish(r: JoinResult<T>): void {
    this.running.delete(r.id);
    const w = this.waiters.shift();
    if (w) w.resolve(r);
    else this.done.push(r);
    if (this.running.size === 0 && this.done.length === 0) {
      for (const x of this.waiters.drain()) x.resolve(undefined);
    }
  }
}
