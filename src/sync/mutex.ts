/**
 * An async mutual-exclusion lock owning its value: tokio's `Mutex<T>`.
 *
 * The protected value is only reachable through a guard, which makes "forgot to lock" a type
 * error rather than a race across awaits. Guards are `Disposable` (`using g = await m.lock()`).
 * The lock is handed directly to the oldest waiter on release (FIFO, no barging).
 *
 * `lock` spends the budget the sync primitives share with UDP's fast path (see `sync/index.ts`):
 * past 1,024 settlements in a row an operation still takes effect at once, but its promise settles
 * after the event loop's next turn, so a loop of them cannot starve timers and I/O.
 * @module
 */

import { CoopWaiter, WaitList, park } from '../internal/wait-list';
import { completedAtOnce, failedAtOnce, PRIMITIVE_OP } from '../internal/sync-budget';
import { abortError, signalOf } from '../internal/abort';
import { ReleasedError } from './errors';

/** Options for {@link Mutex.lock}. */
export interface LockOptions {
  /** Cancels the wait (rejects with `AbortError`); a cancelled waiter never holds the lock. */
  signal?: AbortSignal;
}

/** Exclusive access to a {@link Mutex}'s value until released. */
export class MutexGuard<T> implements Disposable {
  /** @internal */ private mutex: Mutex<T> | null;

  /** @internal */
  constructor(mutex: Mutex<T>) {
    this.mutex = mutex;
  }

  /** The protected value. Throws `ReleasedError` after release. */
  get value(): T {
    if (!this.mutex) throw new ReleasedError('MutexGuard already released');
    return this.mutex.data;
  }

  /** Replaces the protected value. Throws `ReleasedError` after release. */
  set value(v: T) {
    if (!this.mutex) throw new ReleasedError('MutexGuard already released');
    this.mutex.data = v;
  }

  /** Unlocks, handing the lock to the oldest waiter. Idempotent. */
  release(): void {
    const m = this.mutex;
    if (!m) return;
    this.mutex = null;
    m.unlock();
  }

  /** Same as {@link release}, for `using`. */
  [Symbol.dispose](): void {
    this.release();
  }
}

/** An async lock around a value of type `T`. */
export class Mutex<T> {
  /** @internal */ data: T;
  /** @internal */ private locked = false;
  /** @internal */ private readonly waiters = new WaitList<CoopWaiter<MutexGuard<T>>>();

  /** @param value - The protected value. */
  constructor(value: T) {
    this.data = value;
  }

  /** True while a guard is held. */
  get isLocked(): boolean {
    return this.locked;
  }

  /** Waits for the lock (FIFO). Rejects with `AbortError` if `signal` aborts first. */
  lock(options?: LockOptions): Promise<MutexGuard<T>> {
    const signal = signalOf(options);
    if (signal?.aborted) return failedAtOnce(abortError(signal), PRIMITIVE_OP);
    if (!this.locked) {
      this.locked = true;
      return completedAtOnce(new MutexGuard(this), PRIMITIVE_OP);
    }
    return park(this.waiters, new CoopWaiter<MutexGuard<T>>(), signal);
  }

  /** The guard if the lock is free now (and nobody waits), else null. */
  tryLock(): MutexGuard<T> | null {
    if (this.locked) return null;
    this.locked = true;
    return new MutexGuard(this);
  }

  /** @internal */
  unlock(): void {
    const w = this.waiters.shift();
    if (w) w.resolve(new MutexGuard(this));
    else this.locked = false;
  }
}
