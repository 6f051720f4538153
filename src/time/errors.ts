/**
 * Errors raised by corio's time utilities.
 * @module
 */

/** A {@link timeout} that elapsed. `name` `'TimeoutError'`, `code` `'ETIMEDOUT'`. */
export class TimeoutError extends Error {
  /** Always `'ETIMEDOUT'`, Node's code for a timed-out operation. */
  readonly code = 'ETIMEDOUT';
  /** Always `'TimeoutError'`. */
  override name = 'TimeoutError';

  /** @param message - Defaults to a message naming the elapsed time. */
  constructor(message = 'The operation timed out') {
    super(message);
  }
}

/** A `tick()` on an {@link Interval} that was closed. Code `'ERR_INTERVAL_CLOSED'`. */
export class IntervalClosedError extends Error {
  /** Always `'ERR_INTERVAL_CLOSED'`. */
  readonly code = 'ERR_INTERVAL_CLOSED';
  /** Always `'IntervalClosedError'`. */
  override name = 'IntervalClosedError';

  constructor(message = 'Interval closed') {
    super(message);
  }
}
