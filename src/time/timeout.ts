/**
 * `timeout`: bound the time an operation may take (tokio's `time::timeout`).
 *
 * Given a function, `timeout` passes it an `AbortSignal` and aborts it when time runs out, so the
 * operation really stops instead of running on unobserved. The timer is cleared as soon as the
 * operation settles; a late rejection of the abandoned operation is absorbed, never unhandled.
 * @module
 */

import { abortError, signalOf } from '../internal/abort';
import { invalidArgType, outOfRange, validateMs } from '../internal/validate';
import { MAX_TIMER_MS } from './sleep';
import { TimeoutError } from './errors';

/** Options for {@link timeout}. */
export interface TimeoutOptions {
  /** Cancels the whole operation: rejects with `AbortError` and aborts the inner signal. */
  signal?: AbortSignal;
}

/**
 * Settles like `operation`, unless `ms` milliseconds pass first: then rejects with a
 * `TimeoutError` (code `ETIMEDOUT`) and, if `operation` is a function, aborts the signal it was
 * given (with the `TimeoutError` as reason).
 * @param ms - Finite number >= 0 (at most 2^31 - 1).
 * @param operation - A promise, or `(signal) => promise`, called synchronously.
 */
export function timeout<T>(
  ms: number,
  operation: PromiseLike<T> | ((signal: AbortSignal) => T | PromiseLike<T>),
  options?: TimeoutOptions,
): Promise<T> {
  validateMs(ms, 'ms');
  if (ms > MAX_TIMER_MS) throw outOfRange('ms', `a number >= 0 and <= ${MAX_TIMER_MS}`, ms);
  const outer = signalOf(options);
  const isFn = typeof operation === 'function';
  if (!isFn && (operation === null || typeof (operation as PromiseLike<T>)?.then !== 'function')) {
    throw invalidArgType('operation', 'a function or a PromiseLike', operation);
  }
  if (outer?.aborted) {
    if (!isFn) Promise.resolve(operation).catch(() => {});
    return Promise.reject(abortError(outer));
  }
  const ac = isFn ? new AbortController() : undefined;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
      return true;
    };
    const onAbort = (): void => {
      if (!finish()) return;
      const err = abortError(outer as AbortSignal);
      ac?.abort(outer?.reason);
      reject(err);
    };
    const timer = setTimeout(() => {
      if (!finish()) return;
      const err = new TimeoutError(`The operation timed out after ${ms} ms`);
      ac?.abort(err);
      reject(err);
    }, ms);
    outer?.addEventListener('abort', onAbort, { once: true });
    let p: PromiseLike<T>;
    try {
      p = isFn
        ? Promise.resolve((operation as (signal: AbortSignal) => T | PromiseLike<T>)(ac!.signal))
        : (operation as PromiseLike<T>);
    } catch (err) {
      if (finish()) reject(err);
      return;
    }
    Promise.resolve(p).then(
      (v) => {
        if (finish()) resolve(v);
      },
      (e) => {
        if (finish()) reject(e);
      },
    );
  });
}
