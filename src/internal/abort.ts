/**
 * Cancellation helpers shared by every corio API that waits.
 *
 * corio follows Node's own convention (`node:timers/promises`, `events.once`): a wait that is
 * cancelled through an `AbortSignal` rejects with an `Error` whose `name` is `'AbortError'`,
 * whose `code` is `'ABORT_ERR'`, and whose `cause` is the signal's `reason`. Keeping the one
 * class here means every module cancels the same way.
 * @module
 */

import { invalidArgType } from './validate';

/**
 * The error a cancelled wait rejects with. `cause` holds the `AbortSignal`'s `reason`.
 */
export class AbortError extends Error {
  /** Always `'ABORT_ERR'`, as for Node's own cancellable APIs. */
  readonly code = 'ABORT_ERR';
  /** Always `'AbortError'`, as for DOM and Node abort errors. */
  override name = 'AbortError';

  /**
   * @param message - Human readable message.
   * @param options - `cause`: normally the signal's `reason`.
   */
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Builds the rejection for a wait cancelled by `signal`. */
export function abortError(signal: AbortSignal): AbortError {
  return new AbortError(undefined, { cause: signal.reason });
}

/**
 * Checks that `signal` is `undefined` or an `AbortSignal`; throws a `TypeError` with code
 * `ERR_INVALID_ARG_TYPE` naming `name` otherwise.
 */
export function validateSignal(signal: unknown, name = 'options.signal'): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (
    signal === null ||
    typeof signal !== 'object' ||
    typeof (signal as AbortSignal).aborted !== 'boolean' ||
    typeof (signal as AbortSignal).addEventListener !== 'function'
  ) {
    throw invalidArgType(name, 'an AbortSignal', signal);
  }
  return signal as AbortSignal;
}

/** Reads and validates the `signal` of an options object (which may itself be undefined). */
export function signalOf(options: unknown, name = 'options'): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object') {
    throw invalidArgType(name, 'an object', options);
  }
  return validateSignal((options as { signal?: unknown }).signal, `${name}.signal`);
}
