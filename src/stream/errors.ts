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
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(`Stream ${String(key)} failed: ${detail}`, { cause });
    this.key = key;
  }
}
