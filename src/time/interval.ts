/**
 * `interval`: periodic ticks with tokio's missed-tick semantics (tokio's `time::interval`).
 *
 * The first tick completes immediately; later ticks are due every `period` ms after it. Like
 * tokio's, the interval is lazy: a timer exists only while someone awaits a tick, so an idle
 * interval keeps nothing alive. When a tick is awaited late (the consumer was busy), the
 * `missedTickBehavior` decides when the following ticks are due:
 * - `'burst'` (default): keep the original schedule; the missed ticks complete immediately,
 *   one after another, until caught up.
 * - `'delay'`: the next tick is due `period` after the late tick.
 * - `'skip'`: drop the missed ticks; the next tick is the next one on the original schedule.
 * As in tokio, a tick less than 5 ms late counts as on time (timer jitter, not a missed tick).
 * @module
 */

import { abortError, signalOf, validateSignal } from '../internal/abort';
import { invalidArgType, outOfRange, validateMs } from '../internal/validate';
import { MAX_TIMER_MS, refOf } from './sleep';
import { IntervalClosedError } from './errors';

/** What an {@link Interval} does about ticks that were missed. */
export type MissedTickBehavior = 'burst' | 'delay' | 'skip';

/** Options for {@link interval}. */
export interface IntervalOptions {
  /** Default `'burst'`, as in tokio. */
  missedTickBehavior?: MissedTickBehavior;
  /** Aborting it closes the interval: pending and later ticks reject with `AbortError`. */
  signal?: AbortSignal;
  /** If false, the tick timer does not keep the event loop alive. Default true. */
  ref?: boolean;
}

/** Options for {@link Interval.tick}. */
export interface TickOptions {
  /**
   * Cancels this wait only; the schedule is unchanged. It also cancels a tick still queued
   * behind earlier pending ticks (it rejects at once and never takes a tick).
   */
  signal?: AbortSignal;
}

/** How late (ms) a tick may be and still count as on time (tokio uses 5 ms). */
export const MISSED_TICK_TOLERANCE_MS = 5;

/**
 * When the tick after the one due at `deadline` is due, given that it completed at `now`.
 * Pure; exported so the missed-tick rules can be tested without a clock. @internal
 */
export function nextDeadline(
  behavior: MissedTickBehavior,
  deadline: number,
  now: number,
  period: number,
): number {
  if (now - deadline <= MISSED_TICK_TOLERANCE_MS) return deadline + period;
  switch (behavior) {
    case 'burst':
      return deadline + period;
    case 'delay':
      return now + period;
    case 'skip':
      return deadline + period * (Math.floor((now - deadline) / period) + 1);
  }
}

const CLOSED: unique symbol = Symbol('closed');

/**
 * A periodic timer. `await iv.tick()` or `for await (const t of iv)`; each tick yields the
 * time it was due (a `performance.now()` timestamp). `break`, `return()`, `close()` or
 * `using` stop it and clear its timer.
 */
export class Interval implements AsyncIterableIterator<number>, Disposable {
  /** The period in ms. */
  readonly period: number;
  /** The missed-tick rule in force. */
  readonly missedTickBehavior: MissedTickBehavior;
  /** @internal */ private deadline: number;
  /** @internal */ private closed = false;
  /** @internal */ private closedError: unknown = undefined;
  /** @internal */ private readonly ref: boolean;
  /** @internal */ private timer: NodeJS.Timeout | undefined = undefined;
  /** @internal */ private settle: ((v: number | typeof CLOSED | Error) => void) | undefined;
  /** @internal */ private chain: Promise<unknown> = Promise.resolve();
  /** @internal */ private readonly signal: AbortSignal | undefined;
  /** @internal */ private readonly onAbort = (): void => this.shut(abortError(this.signal!));

  /** @internal Use {@link interval}. */
  constructor(period: number, behavior: MissedTickBehavior, ref: boolean, signal?: AbortSignal) {
    this.period = period;
    this.missedTickBehavior = behavior;
    this.ref = ref;
    this.deadline = performance.now();
    this.signal = signal;
    if (signal) {
      if (signal.aborted) this.shut(abortError(signal));
      else signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  /**
   * Waits for the next tick and resolves with the time it was due. Rejects with
   * `IntervalClosedError` after `close()`, with `AbortError` if `signal` (or the interval's
   * own signal) aborts. Concurrent calls are served one after another.
   */
  tick(options?: TickOptions): Promise<number> {
    const signal = signalOf(options);
    const gate = this.chain;
    const waited = signal === undefined ? gate.then(() => this.waitTick(undefined)) : this.queued(gate, signal);
    const p = waited.then((v) => {
      if (v === CLOSED) throw this.closedError ?? new IntervalClosedError();
      return v;
    });
    // The next tick waits for the ticks before this one too: a tick cancelled while queued
    // settles early, but must not let the one after it overtake a tick still pending.
    this.chain = gate.then(() => p).catch(() => {});
    return p;
  }

  /**
   * @internal `waitTick(signal)` once the ticks called before (`gate`) are done; `signal`
   * aborting while it still waits for them rejects at once (and that tick never runs).
   */
  private queued(gate: Promise<unknown>, signal: AbortSignal): Promise<number | typeof CLOSED> {
    if (signal.aborted) return Promise.reject(abortError(signal));
    return new Promise<number | typeof CLOSED>((resolve, reject) => {
      let cancelled = false;
      const onAbort = (): void => {
        cancelled = true;
        reject(abortError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      void gate.then(() => {
        signal.removeEventListener('abort', onAbort);
        if (!cancelled) this.waitTick(signal).then(resolve, reject);
      });
    });
  }

  /** Async-iterator protocol: the next tick, or done once closed. */
  next(): Promise<IteratorResult<number>> {
    const p = this.chain.then(() => this.waitTick(undefined)).then(
      (v): IteratorResult<number> => {
        if (v !== CLOSED) return { done: false, value: v };
        if (this.closedError) throw this.closedError;
        return { done: true, value: undefined };
      },
    );
    this.chain = p.catch(() => {});
    return p;
  }

  /** Closes the interval (for `break` in `for await`). */
  return(): Promise<IteratorResult<number>> {
    this.close();
    return Promise.resolve({ done: true, value: undefined });
  }

  /** Returns itself: an interval is its own iterator. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Makes the next tick due `period` ms from now. */
  reset(): void {
    this.deadline = performance.now() + this.period;
  }

  /**
   * Stops the interval and clears its timer; a pending tick settles as closed (`tick()` rejects
   * with `IntervalClosedError`, iteration ends). Idempotent; arguments are ignored.
   */
  close(): void {
    this.shut(undefined);
  }

  /**
   * Closes with `error` as the rejection of pending and later ticks (the interval's own signal
   * aborting: an `AbortError`), or `IntervalClosedError` when `undefined`. Kept apart from the
   * public `close()` so a caller's argument can never become the rejection.
   */
  private shut(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.closedError = error;
    this.signal?.removeEventListener('abort', this.onAbort);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const settle = this.settle;
    this.settle = undefined;
    settle?.(CLOSED);
  }

  /** Same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal */
  private waitTick(signal: AbortSignal | undefined): Promise<number | typeof CLOSED> {
    if (this.closed) return Promise.resolve(CLOSED);
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const now = performance.now();
    if (now >= this.deadline) return Promise.resolve(this.fire(now));
    return new Promise<number | typeof CLOSED>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(this.timer);
        this.timer = undefined;
        this.settle = undefined;
        reject(abortError(signal!));
      };
      this.settle = (v) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(v as number | typeof CLOSED);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const arm = (): void => {
        const wait = this.deadline - performance.now();
        this.timer = setTimeout(() => {
          this.timer = undefined;
          // Timers may fire a fraction of a ms early relative to performance.now(); a delay
          // beyond the timer limit needs another lap.
          if (this.deadline - performance.now() > 1) return arm();
          const settle = this.settle;
          this.settle = undefined;
          settle?.(this.fire(Math.max(performance.now(), this.deadline)));
        }, Math.min(Math.max(wait, 0), MAX_TIMER_MS));
        if (!this.ref) this.timer.unref();
      };
      arm();
    });
  }

  /** @internal Completes the tick due now and schedules the next one. */
  private fire(now: number): number {
    const due = this.deadline;
    this.deadline = nextDeadline(this.missedTickBehavior, due, now, this.period);
    return due;
  }
}

/**
 * A periodic timer whose first tick is immediate.
 * @param ms - Period, finite number > 0.
 */
export function interval(ms: number, options?: IntervalOptions): Interval {
  validateMs(ms, 'ms');
  if (ms === 0) throw outOfRange('ms', 'a finite number > 0', ms);
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw invalidArgType('options', 'an object', options);
  }
  const behavior = options?.missedTickBehavior ?? 'burst';
  if (behavior !== 'burst' && behavior !== 'delay' && behavior !== 'skip') {
    throw invalidArgType('options.missedTickBehavior', "one of 'burst', 'delay', 'skip'", behavior);
  }
  const signal = validateSignal(options?.signal);
  return new Interval(ms, behavior, refOf(options), signal);
}
