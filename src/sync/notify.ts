/**
 * Wake-up signalling without data: tokio's `Notify`.
 *
 * `notifyOne()` wakes the oldest waiter, or, if nobody waits, stores a single permit that the
 * next `notified()` consumes at once, so a notification sent just before the wait starts is
 * not lost. `notifyWaiters()` wakes everyone waiting now and stores nothing.
 *
 * `notified` spends the budget the sync primitives share with UDP's fast path (see
 * `sync/index.ts`): past 1,024 settlements in a row an operation still takes effect at once, but
 * its promise settles after the event loop's next turn, so a loop of them cannot starve timers and
 * I/O.
 * @module
 */

import { CoopWaiter, WaitList, park } from '../internal/wait-list';
import { completedAtOnce, failedAtOnce, PRIMITIVE_OP } from '../internal/sync-budget';
import { abortError, signalOf } from '../internal/abort';

/** Options for {@link Notify.notified}. */
export interface NotifiedOptions {
  /** Cancels the wait (rejects with `AbortError`); the cancelled waiter takes no notification. */
  signal?: AbortSignal;
}

/** A notification primitive (tokio's `Notify`). */
export class Notify {
  /** @internal */ private permit = false;
  /** @internal */ private readonly waiters = new WaitList<CoopWaiter<void>>();

  /** Number of callers waiting in `notified()`. */
  get waiterCount(): number {
    return this.waiters.size;
  }

  /**
   * Waits for a notification. Resolves at once if a stored permit exists (consuming it).
   */
  notified(options?: NotifiedOptions): Promise<void> {
    const signal = signalOf(options);
    if (signal?.aborted) return failedAtOnce(abortError(signal), PRIMITIVE_OP);
    if (this.permit) {
      this.permit = false;
      return completedAtOnce(undefined, PRIMITIVE_OP);
    }
    return park(this.waiters, new CoopWaiter<void>(), signal);
  }

  /** Wakes the oldest waiter, or stores one permit if nobody waits (permits do not add up). */
  notifyOne(): void {
    const w = this.waiters.shift();
    if (w) w.resolve();
    else this.permit = true;
  }

  /** Wakes every current waiter; stores no permit. */
  notifyWaiters(): void {
    for (const w of this.waiters.drain()) w.resolve();
  }
}
