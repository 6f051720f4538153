/**
 * Errors raised by corio, shaped like Node's own.
 *
 * Every error corio rejects with is a plain `Error` (or `TypeError`/`RangeError` for bad
 * arguments) carrying Node's `code` (`ECONNREFUSED`, `EADDRINUSE`, `ERR_SOCKET_CLOSED`,
 * `ABORT_ERR`, ...) and, where they apply, `syscall`, `address` and `port`; code written for
 * `node:net` errors works unchanged. This module also turns the raw errors of the native
 * binding into that shape, and holds the argument validators shared by the API classes.
 *
 * @module
 */

import { AbortError, abortError, signalOf } from './internal/abort';
import { invalidArgType, outOfRange } from './internal/validate';

export { AbortError };
export { invalidArgType, outOfRange, signalOf };

/**
 * The shape of an error raised by a socket operation: an `Error` with Node's error `code`
 * and, where they apply, the failing `syscall`, the `errno` number and the socket `address`
 * and `port`. Compare `code`, never `message`.
 */
export interface SystemError extends Error {
  /** Node's error code: `ECONNREFUSED`, `EADDRINUSE`, `ECONNRESET`, `EPIPE`, `ERR_SOCKET_CLOSED`, ... */
  code: string;
  /** The OS error number (negative, like Node's `errno`), when the OS reported one. */
  errno?: number;
  /** The system call that failed (`connect`, `bind`, `listen`, `accept`, `read`, `write`, ...). */
  syscall?: string;
  /** The address the operation was for, when it applies. */
  address?: string;
  /** The port the operation was for, when it applies. */
  port?: number;
}

/** Node's code for an operation on a closed socket or listener. */
export const ERR_SOCKET_CLOSED = 'ERR_SOCKET_CLOSED';

/**
 * Creates the error an operation on a closed socket or listener rejects with
 * (`code === 'ERR_SOCKET_CLOSED'`, message `'Socket is closed'`, as in Node).
 *
 * @param syscall - the operation that was refused or interrupted, if known
 */
export function socketClosedError(syscall?: string): SystemError {
  const err = new Error('Socket is closed') as SystemError;
  err.code = ERR_SOCKET_CLOSED;
  if (syscall !== undefined) err.syscall = syscall;
  return err;
}

/**
 * Creates the rejection for an aborted operation from its signal.
 * @internal
 */
export const abortErrorFrom: (signal: AbortSignal) => AbortError = abortError;

// ---------------------------------------------------------------------------------------------
// Argument validation (TypeError / RangeError naming the argument, Node's codes).

/**
 * `TypeError` with code `ERR_INVALID_ARG_VALUE`, naming the argument.
 * @internal
 */
export function invalidArgValue(name: string, value: unknown, reason = 'is invalid'): TypeError {
  let shown: string;
  try {
    shown = typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  const err = new TypeError(`The argument '${name}' ${reason}. Received ${shown}`) as TypeError & { code: string };
  err.code = 'ERR_INVALID_ARG_VALUE';
  return err;
}

/** @internal */
export function validateUint8Array(value: unknown, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalidArgType(name, 'an instance of Uint8Array or Buffer', value);
}

/** @internal */
export function validateBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value);
}

/** @internal */
export function validateInteger(value: unknown, name: string, min: number, max: number): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
}

/** @internal */
export function validateObject(value: unknown, name: string): asserts value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidArgType(name, 'of type object', value);
}

// ---------------------------------------------------------------------------------------------
// Native error translation.

/** Codes the native binding may report, as Node spells them. */
const NODE_CODE = /^(E[A-Z0-9]+|ERR_[A-Z0-9_]+|ABORT_ERR)$/;
/** `"ECONNREFUSED: ..."`, `"[ECONNREFUSED] ..."` or `"connect ECONNREFUSED 127.0.0.1:1"` message prefixes. */
const CODE_IN_MESSAGE = /^\[?(E[A-Z0-9]{2,}|ERR_[A-Z0-9_]+|ABORT_ERR)\]?(?::|\s|$)|^[a-z_]+ (E[A-Z0-9]{2,})\b/;

/**
 * Gives an error from the native binding Node's shape: a `code` Node would use (the binding
 * reports it as `code`, or at the start of its message when napi's own status code occupies
 * `code`), `name 'AbortError'` for `ABORT_ERR`, and the operation's `syscall`/`address`/`port`
 * where the binding did not set them. Anything that is not an `Error` is wrapped in one.
 * @internal
 */
export function fromNative(raw: unknown, syscall?: string, address?: string, port?: number): Error {
  let err: SystemError;
  if (raw instanceof Error) {
    err = raw as SystemError;
  } else {
    err = new Error(typeof raw === 'string' ? raw : `native error: ${String(raw)}`) as SystemError;
  }
  let code = typeof err.code === 'string' && NODE_CODE.test(err.code) ? err.code : undefined;
  if (code === undefined) {
    const m = CODE_IN_MESSAGE.exec(err.message);
    if (m) code = m[1] ?? m[2];
  }
  if (code === 'ABORT_ERR') return raw instanceof AbortError ? raw : new AbortError(err.message || undefined);
  try {
    if (code !== undefined) err.code = code;
    if (err.syscall === undefined && syscall !== undefined) err.syscall = syscall;
    if (err.address === undefined && address !== undefined) err.address = address;
    if (err.port === undefined && port !== undefined) err.port = port;
  } catch {
    // A frozen error: leave it as it is.
  }
  return err;
}
