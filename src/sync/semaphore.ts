/**
 * A counting semaphore with FIFO fairness: tokio's `Semaphore`.
 *
 * Limits concurrency (connections, in-flight requests). Waiters are served strictly in arrival
 * order: a large request at the head blocks later small ones, so large requests cannot starve.
 * Permits are `Disposable`, so `using permit = await sem.acquire()` releases them at scope exit.
 *
 * `acquire` spends the budget the sync primitives share with UDP's fast path (see
 * `sync/index.ts`): past 1,024 settlements in a row an operation still takes effect at once, but
 * its promise settles after the event loop's next turn, so a loop of them cannot starve timers and
 * I/O.
 * @module
 */

import { CoopWaiter, WaitList, park } from '../internal/wait-list';
import { completedAtOnce, failedAtOnce, PRIMITIVE_OP } from '../internal/sync-budget';
import { abortError, signalOf } from '../internal/abort';
import { validateInteger } from '../internal/validate';
import { ReleasedError, SemaphoreClosedError } from './errors';

/** Options for {@link Semaphore.acquire}. */
export interface AcquireOptions {
  /** Cancels the wait; it then rejects with an `AbortError` and holds no permits. */
  signal?: AbortSignal;
}

/** The largest number of permits a semaphore can hold. */
export const MAX_PERMITS = Number.MAX_SAFE_INTEGER;

class AcquireWaiter extends CoopWaiter<Permit> {
  constructor(readonly n: number) {
    super();
  }
}

/** Permits held from a {@link Semaphore}. Release them once with `release()` or `using`. */
export class Permit implements Disposable {
  /** @internal */ private sem: Semaphore | null;
  /** @internal */ private count: number;

  /** @internal */
  constructor(sem: Semaphore, n: number) {
    this.sem = sem;
    this.count = n;
  }

  /** Number of permits held (0 after release or forget). */
  get permits(): number {
    return this.count;
  }

  /** Returns the permits to the semaphore. Idempotent. */
  release(): void {
    const sem = this.sem;
    if (!sem) return;
    const n = this.count;
    this.sem = null;
    this.count = 0;
    sem.addPermits(n);
  }

  /** Drops the permits without returning them (the semaphore shrinks). Idempotent. */
  forget(): void {
    this.sem = null;
    this.count = 0;
  }

  /**
   * Splits `n` permits off into a new `Permit`.
   * Throws `ReleasedError` after release, `RangeError` if `n` exceeds the permits held.
   */
  split(n: number): Permit {
    if (!this.sem) throw new ReleasedError('Permit already released');
    validateInteger(n, 'n', 1, this.count);
    this.count -= n;
    return new Permit(this.sem, n);
  }

  /** Same as {@link release}, for `using`. */
  [Symbol.dispose](): void {
    this.release();
  }
}

/** A FIFO-fair counting semaphore. */
export class Semaphore {
  /** @internal */ private permits: number;
  /** @internal */ private closedSem = false;
  /** @internal */ private readonly waiters = new WaitList<AcquireWaiter>();
  /** @internal */ private readonly wake = (): void => this.serve();

  /** @param permits - Initial permits, integer >= 0. */
  constructor(permits: number) {
    this.permits = validateInteger(permits, 'permits', 0, MAX_PERMITS);
  }

  /** Permits available right now. */
  get availablePermits(): number {
    return this.permits;
  }

  /** True once {@link close} was called. */
  get isClosed(): boolean {
    return this.closedSem;
  }

  /**
   * Acquires `n` permits, waiting in FIFO order. Rejects with `SemaphoreClosedError` (code
   * `ERR_SEMAPHORE_CLOSED`) if the semaphore is or becomes closed, and with `AbortError` if
   * `signal` aborts, in which case no permit is held and waiters behind are served.
   * @param n - Integer >= 1.
   */
  acquire(n = 1, options?: AcquireOptions): Promise<Permit> {
    validateInteger(n, 'n', 1, MAX_PERMITS);
    const signal = signalOf(options);
    if (this.closedSem) return failedAtOnce(new SemaphoreClosedError(), PRIMITIVE_OP);
    if (signal?.aborted) return failedAtOnce(abortError(signal), PRIMITIVE_OP);
    if (this.waiters.size === 0 && this.permits >= n) {
      this.permits -= n;
      return completedAtOnce(new Permit(this, n), PRIMITIVE_OP);
    }
    return park(this.waiters, new AcquireWaiter(n), signal, this.wake);
  }

  /**
   * Acquires `n` permits if that is possible right now without overtaking a waiter; else null.
   * Throws `SemaphoreClosedError` if closed.
   */
  tryAcquire(n = 1): Permit | null {
    validateInteger(n, 'n', 1, MAX_PERMITS);
    if (this.closedSem) throw new SemaphoreClosedError();
    if (this.waiters.size === 0 && this.permits >= n) {
      this.permits -= n;
      return new Permit(this, n);
    }
    return null;
  }

  /** Adds `n` permits (integer >= 0) and serves waiters that can now proceed. */
  addPermits(n: number): void {
    validateInteger(n, 'n', 0, MAX_PERMITS);
    this.permits = Math.min(MAX_PERMITS, this.permits + n);
    this.serve();
  }

  /**
   * Closes the semaphore: pending and future acquires reject with `SemaphoreClosedError`.
   * Permits already held can still be released. Idempotent.
   */
  close(): void {
    if (this.closedSem) return;
    this.closedSem = true;
    for (const w of this.waiters.drain()) w.reject(new SemaphoreClosedError());
  }

  /** @internal Hands permits to waiters from the head while the head's request fits. */
  private serve(): void {
    let w: AcquireWaiter | null;
    while ((w = this.waiters.peek()) && this.permits >= w.n) {
      this.permits -= w.n;
      w.resolve(new Permit(this, w.n));
    }
  }
}
