/**
 * FIFO lists of parked waiters with O(1) removal, and the one way corio parks a caller.
 *
 * Every wait (a semaphore acquire, a channel send, a notified()) is a node in an intrusive
 * doubly-linked list. Cancellation removes the node synchronously from the abort listener, so a
 * cancelled waiter leaves no trace and can never be handed a permit, value or notification:
 * a waiter is always unlinked *before* its promise settles, in the same turn as the call that
 * woke or cancelled it. A {@link CoopWaiter} (the sync primitives') settles its promise through
 * the shared budget of `sync-budget.ts`, which may defer the settlement — never the unlinking —
 * past the event loop's next turn.
 * @module
 */

import { abortError } from './abort';
import { settleInBudget } from './sync-budget';

/** A parked caller. Subclasses add what the primitive needs (a value, a permit count...). */
export class Waiter<T> {
  /** @internal */ prev: Waiter<T> | null = null;
  /** @internal */ next: Waiter<T> | null = null;
  /** @internal */ list: WaitList<Waiter<T>> | null = null;
  /** @internal */ resolveFn: ((value: T) => void) | null = null;
  /** @internal */ rejectFn: ((reason: unknown) => void) | null = null;
  /** @internal */ signal: AbortSignal | undefined = undefined;
  /** @internal */ onAbort: (() => void) | undefined = undefined;

  /** Unlinks (if still linked), detaches the abort listener and resolves. */
  resolve(value: T): void {
    this.list?.remove(this);
    this.detach();
    const fn = this.resolveFn;
    this.resolveFn = this.rejectFn = null;
    if (fn) this.settle(fn, value);
  }

  /** Unlinks (if still linked), detaches the abort listener and rejects. */
  reject(reason: unknown): void {
    this.list?.remove(this);
    this.detach();
    const fn = this.rejectFn;
    this.resolveFn = this.rejectFn = null;
    if (fn) this.settle(fn, reason);
  }

  /** Settles the promise with `fn(arg)` (its resolve or reject): at once here. */
  protected settle<A>(fn: (arg: A) => void, arg: A): void {
    fn(arg);
  }

  private detach(): void {
    if (this.signal && this.onAbort) this.signal.removeEventListener('abort', this.onAbort);
    this.signal = undefined;
    this.onAbort = undefined;
  }
}

/**
 * A waiter of a sync primitive: its wake-up spends the shared budget, so a loop of wake-ups
 * (a ping-pong whose every receive waits) still lets the event loop turn, and a deferred
 * settlement stays behind the at-once completions that took effect before it.
 */
export class CoopWaiter<T> extends Waiter<T> {
  /** Settles through the budget (see `sync-budget.ts`). */
  protected override settle<A>(fn: (arg: A) => void, arg: A): void {
    settleInBudget(fn, arg);
  }
}

/** Intrusive FIFO list of waiters. */
export class WaitList<W extends Waiter<any>> {
  private head: W | null = null;
  private tail: W | null = null;
  /** Number of linked waiters. */
  size = 0;

  /** The first waiter, or `null`. */
  peek(): W | null {
    return this.head;
  }

  /** Links `w` at the tail. */
  push(w: W): void {
    w.list = this as WaitList<Waiter<any>>;
    w.prev = this.tail;
    w.next = null;
    if (this.tail) this.tail.next = w;
    else this.head = w;
    this.tail = w;
    this.size++;
  }

  /** Unlinks and returns the head, or `null`. */
  shift(): W | null {
    const w = this.head;
    if (w) this.remove(w);
    return w;
  }

  /** Unlinks `w` (no-op when it is not in this list). */
  remove(w: W | Waiter<any>): void {
    if (w.list !== (this as WaitList<Waiter<any>>)) return;
    if (w.prev) w.prev.next = w.next;
    else this.head = w.next as W | null;
    if (w.next) w.next.prev = w.prev;
    else this.tail = w.prev as W | null;
    w.prev = w.next = null;
    w.list = null;
    this.size--;
  }

  /** Unlinks every waiter and returns them in order. */
  drain(): W[] {
    const out: W[] = [];
    let w: W | null;
    while ((w = this.shift())) out.push(w);
    return out;
  }
}

/**
 * Parks `w` at the tail of `list` until it is resolved or rejected. If `signal` aborts first,
 * `w` is unlinked and the promise rejects with an `AbortError`; `onCancel` then runs so the
 * primitive can pass on what the cancelled waiter was blocking (e.g. a semaphore's head).
 * The caller must check `signal.aborted` before parking.
 */
export function park<T, W extends Waiter<T>>(
  list: WaitList<W>,
  w: W,
  signal: AbortSignal | undefined,
  onCancel?: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    w.resolveFn = resolve;
    w.rejectFn = reject;
    if (signal) {
      w.signal = signal;
      w.onAbort = () => {
        w.reject(abortError(signal));
        onCancel?.();
      };
      signal.addEventListener('abort', w.onAbort, { once: true });
    }
    list.push(w);
  });
}
