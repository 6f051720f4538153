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
    super(`Stream ${show(key)} failed: ${detail(cause)}`, { cause });
    this.key = key;
  }
}

/** The message of an `Error`, else the value's string form (never throws; see {@link show}). */
function detail(cause: unknown): string {
  try {
    if (cause instanceof Error) return show(cause.message);
  } catch {
    // `instanceof` or `.message` hit a Proxy trap that throws.
  }
  return show(cause);
}

/**
 * `String(value)`, except for values that have no string form (a null-prototype object, an
 * object whose `toString` throws, a Proxy whose every trap throws): a key or a thrown value
 * may be anything, and building the error must never throw instead.
 */
function show(value: unknown): string {
  try {
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return `[${typeof value}]`;
    }
  }
}
