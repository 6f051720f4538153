/**
 * Errors raised by StreamMap.
 * @module
 */

/**
 * A member stream of a `StreamMap` threw. `key` names the member (it has been removed from
 * the map) and `cause` is what it threw. Code `'ERR_STREAM_MAP_MEMBER'`.
 */
export class StreamMapError<K = unknown> extends Error {
  /** Always `'ERR_STREAM_MAP_MEMBER'`. */
  readonly code = 'ERR_STREAM_MAP_MEMBER';
  /** Always `'StreamMapError'`. */
  override name = 'StreamMapError';
  /** The key of the stream that threw. */
  readonly key: K;

  /** @param key - The member's key. @param cause - What the member threw. */
  constructor(key: K, cause: unknown) {
    const detail = cause instanceof Error ? show(cause.message) : show(cause);
    super(`Stream ${show(key)} failed: ${detail}`, { cause });
    this.key = key;
  }
}

/**
 * `String(value)`, except for values that have no string form (a null-prototype object, an
 * object whose `toString` throws): a key or a thrown value may be anything, and building the
 * error must not throw instead.
 */
function show(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
