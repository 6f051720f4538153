/**
 * `copy` and `copyBidirectional`: moving bytes between sockets entirely in native code.
 *
 * The bytes never enter JS: one promise covers the whole transfer, the runtime's worker threads
 * do the reads and writes, and the JS thread is woken once, at the end. This is the fast path
 * for echo servers and proxies (`copy(socket, socket)` is an echo).
 *
 * @module
 */

import { fromNative, invalidArgType, signalOf } from '../errors';
import { native } from '../native';
import { nativeHandle, TcpStream } from '../net/tcp-stream';
import { cancellable } from './op';
import type { AbortOptions } from './traits';

/**
 * Copies everything `from` reads to `to`, in native code, until `from` reaches end of stream;
 * then shuts `to` down for writing. `copy(socket, socket)` echoes.
 *
 * While it runs, it owns the read side of `from` and the write side of `to`: other reads from
 * `from` and writes to `to` wait until it is done.
 *
 * @param from - the stream to read
 * @param to - the stream to write
 * @param opts - `signal` cancels the copy (bytes already copied stay copied)
 * @returns the number of bytes copied
 * @throws TypeError (synchronously) unless both are `TcpStream`s
 * @throws (rejects) an I/O error of either stream; `ERR_SOCKET_CLOSED` if either is closed;
 *   `AbortError` when aborted
 */
export function copy(from: TcpStream, to: TcpStream, opts?: AbortOptions): Promise<number> {
  if (!(from instanceof TcpStream)) throw invalidArgType('from', 'an instance of TcpStream', from);
  if (!(to instanceof TcpStream)) throw invalidArgType('to', 'an instance of TcpStream', to);
  const signal = signalOf(opts, 'opts');
  const a = nativeHandle(from);
  const b = nativeHandle(to);
  const binding = native();
  const pending = signal === undefined ? binding.copy(a, b, 0) : cancellable(signal, (opId) => binding.copy(a, b, opId));
  return pending.then(undefined, rethrowCopy);
}

/**
 * Copies in both directions at once, in native code: `a` → `b` and `b` → `a`. When one side
 * reaches end of stream, the other is shut down for writing; it resolves when both directions
 * are done. This is a TCP proxy's core.
 *
 * @param a - one stream
 * @param b - the other stream
 * @param opts - `signal` cancels both directions
 * @returns `[bytes a → b, bytes b → a]`
 * @throws TypeError (synchronously) unless both are `TcpStream`s
 * @throws (rejects) an I/O error of either stream; `ERR_SOCKET_CLOSED` if either is closed;
 *   `AbortError` when aborted
 */
export function copyBidirectional(a: TcpStream, b: TcpStream, opts?: AbortOptions): Promise<[number, number]> {
  if (!(a instanceof TcpStream)) throw invalidArgType('a', 'an instance of TcpStream', a);
  if (!(b instanceof TcpStream)) throw invalidArgType('b', 'an instance of TcpStream', b);
  const signal = signalOf(opts, 'opts');
  const ha = nativeHandle(a);
  const hb = nativeHandle(b);
  const binding = native();
  const pending =
    signal === undefined
      ? binding.copyBidirectional(ha, hb, 0)
      : cancellable(signal, (opId) => binding.copyBidirectional(ha, hb, opId));
  return pending.then(undefined, rethrowCopy);
}

function rethrowCopy(err: unknown): never {
  throw fromNative(err);
}
