/**
 * Errors raised by corio's channels and synchronization primitives.
 *
 * Each carries a stable Node-style `code` so callers can branch without `instanceof`
 * (which breaks across duplicated package copies).
 * @module
 */

/**
 * A send on a channel whose receiving side is gone, a receive from a oneshot/watch channel whose
 * sender is gone, or a clone of a closed handle. Code `'ERR_CHANNEL_CLOSED'`.
 * For failed sends, `value` holds the value that was not delivered (like tokio's `SendError(T)`).
 */
export class ChannelClosedError<T = unknown> extends Error {
  /** Always `'ERR_CHANNEL_CLOSED'`. */
  readonly code = 'ERR_CHANNEL_CLOSED';
  /** Always `'ChannelClosedError'`. */
  override name = 'ChannelClosedError';
  /** The value a failed send did not deliver (undefined for receives). */
  readonly value: T | undefined;

  /** @param message - What was closed. @param value - The undelivered value, if any. */
  constructor(message = 'Channel closed', value?: T) {
    super(message);
    this.value = value;
  }
}

/**
 * A broadcast receiver fell behind by more than the channel's capacity: `skipped` values were
 * overwritten before it read them. The next receive continues from the oldest value retained.
 * Code `'ERR_CHANNEL_LAGGED'`.
 */
export class LaggedError extends Error {
  /** Always `'ERR_CHANNEL_LAGGED'`. */
  readonly code = 'ERR_CHANNEL_LAGGED';
  /** Always `'LaggedError'`. */
  override name = 'LaggedError';
  /** How many values this receiver missed. */
  readonly skipped: number;

  /** @param skipped - How many values were missed. */
  constructor(skipped: number) {
    super(`Receiver lagged behind and skipped ${skipped} value(s)`);
    this.skipped = skipped;
  }
}

/** An acquire on a closed `Semaphore`. Code `'ERR_SEMAPHORE_CLOSED'`. */
export class SemaphoreClosedError extends Error {
  /** Always `'ERR_SEMAPHORE_CLOSED'`. */
  readonly code = 'ERR_SEMAPHORE_CLOSED';
  /** Always `'SemaphoreClosedError'`. */
  override name = 'SemaphoreClosedError';

  constructor(message = 'Semaphore closed') {
    super(message);
  }
}

/** Use of a `Permit` or `MutexGuard` after it was released. Code `'ERR_RELEASED'`. */
export class ReleasedError extends Error {
  /** Always `'ERR_RELEASED'`. */
  readonly code = 'ERR_RELEASED';
  /** Always `'ReleasedError'`. */
  override name = 'ReleasedError';

  constructor(message = 'Guard already released') {
    super(message);
  }
}
