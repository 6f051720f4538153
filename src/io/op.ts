/**
 * One native operation in flight, and how an `AbortSignal` cancels it.
 *
 * An operation started without a signal is passed op id 0 and costs nothing extra: the native
 * promise is returned as it is. Only when a signal is given does an operation get an id, an
 * `abort` listener (removed when the operation settles) and a native `cancel(opId)` when the
 * signal fires. The promise then rejects once native code has dropped the operation, so no byte
 * is read or written after the rejection; if the operation finished first, its result wins.
 *
 * @module
 * @internal
 */

import { AbortError, abortErrorFrom } from '../errors';
import { native, nextOpId } from '../native';

/**
 * Runs `start(opId)` so that `signal` cancels it natively.
 *
 * A signal that is already aborted rejects at once, without starting the operation. A
 * rejection caused by the abort becomes an {@link AbortError} whose `cause` is the signal's
 * `reason`.
 */
export function cancellable<T>(signal: AbortSignal, start: (opId: number) => Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(abortErrorFrom(signal));
  const opId = nextOpId();
  const onAbort = (): void => {
    native().cancel(opId);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  let pending: Promise<T>;
  try {
    pending = start(opId);
  } catch (err) {
    signal.removeEventListener('abort', onAbort);
    throw err;
  }
  return pending.then(
    (value) => {
      signal.removeEventListener('abort', onAbort);
      return value;
    },
    (err: unknown) => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted && isAbort(err)) throw abortErrorFrom(signal);
      throw err;
    },
  );
}

function isAbort(err: unknown): boolean {
  return err instanceof AbortError || (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ABORT_ERR');
}
