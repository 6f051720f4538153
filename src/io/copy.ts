/**
 * `copy` and `copyBidirectional`: moving bytes between sockets entirely in native code.
 *
 * The bytes never enter JS: one promise covers the whole transfer, the runtime's worker threads
 * do the reads and writes, and the JS thread is woken once, at the end. This is the fast path
 * for echo servers and proxies (`copy(socket, socket)` is an echo). Any mix of TCP and Unix
 * streams works: a TCP↔Unix proxy is one `copyBidirectional`.
 *
 * @module
 */

import { fromNative, invalidArgType, signalOf } from '../errors';
import { native } from '../native';
import { nativeHandle, SocketStream } from '../net/socket-stream';
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
 * @throws TypeError (synchronously) unless both are streams (`TcpStream` or `UnixStream`)
 * @throws (rejects) an I/O error of either stream; `ERR_SOCKET_CLOSED` if either is closed;
 *   `AbortError` when aborted
 */
export function copy(from: SocketStream, to: SocketStream, opts?: AbortOptions): Promise<number> {
  if (!(from instanceof SocketStream)) throw invalidArgType('from', STREAM, from);
  if (!(to instanceof SocketStream)) throw invalidArgType('to', STREAM, to);
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
 * are done. This is a proxy's core (TCP↔TCP, TCP↔Unix, Unix↔Unix).
 *
 * @param a - one stream
 * @param b - the other stream
 * @param opts - `signal` cancels both directions
 * @returns `[bytes a → b, bytes b → a]`
 * @throws TypeError (synchronously) unless both are streams (`TcpStream` or `UnixStream`)
 * @throws (rejects) an I/O error of either stream; `ERR_SOCKET_CLOSED` if either is closed;
 *   `AbortError` when aborted
 */
export function copyBidirectional(a: SocketStream, b: SocketStream, opts?: AbortOptions): Promise<[number, number]> {
  if (!(a instanceof SocketStream)) throw invalidArgType('a', STREAM, a);
  if (!(b instanceof SocketStream)) throw invalidArgType('b', STREAM, b);
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

/** What `copy` accepts, for its TypeError. */
const STREAM = 'an instance of TcpStream or UnixStream';

function rethrowCopy(err: unknown): never {
  throw fromNative(err);
}
