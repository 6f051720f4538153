/**
 * `sleep`: a cancellable, promise-returning delay (tokio's `time::sleep`).
 *
 * Delays longer than the ~24.8-day limit of Node timers are split into several timers rather
 * than silently clamped to 1 ms. A cancelled sleep clears its timer at once, so it never keeps
 * the process alive.
 * @module
 */

import { abortError, signalOf } from '../internal/abort';
import { invalidArgType, validateMs } from '../internal/validate';

/** Options for {@link sleep}. */
export interface SleepOptions {
  /** Cancels the sleep: it rejects with an `AbortError` and its timer is cleared. */
  signal?: AbortSignal;
  /** If false, the timer does not keep the event loop alive (like `timer.unref()`). Default true. */
  ref?: boolean;
}

/** Longest delay a single Node timer supports. @internal */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Options validation shared by the time utilities. @internal */
export function refOf(options: unknown): boolean {
  if (options === undefined) return true;
  const ref = (options as { ref?: unknown }).ref;
  if (ref === undefined) return true;
  if (typeof ref !== 'boolean') throw invalidArgType('options.ref', 'of type boolean', ref);
  return ref;
}

/**
 * Resolves after `ms` milliseconds.
 * @param ms - Finite number >= 0.
 */
export function sleep(ms: number, options?: SleepOptions): Promise<void> {
  validateMs(ms, 'ms');
  const signal = signalOf(options);
  const ref = refOf(options);
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout;
    const deadline = Date.now() + ms;
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal));
    };
    const arm = (delay: number): void => {
      timer = setTimeout(fire, Math.min(delay, MAX_TIMER_MS));
      if (!ref) timer.unref();
    };
    const fire = (): void => {
      const left = deadline - Date.now();
      if (ms > MAX_TIMER_MS && left > 0) return arm(left);
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    arm(ms);
  });
}
