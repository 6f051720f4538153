/**
 * `UnixStream`: a connected Unix domain stream socket (IPC with sidecars, nginx upstreams and
 * other local services), with the same I/O as `TcpStream`.
 *
 * Reading, writing, closing, iteration and the stream adapters are `SocketStream`'s
 * (`socket-stream.ts`); this class adds connecting to a path and path addresses. On Windows
 * the class exists but `connect` rejects with `ENOTSUP`.
 *
 * @module
 */

import { fromNative, invalidArgType, invalidArgValue, outOfRange, signalOf, socketClosedError } from '../errors';
import { cancellable } from '../io/op';
import type { AbortOptions } from '../io/traits';
import { native, NativeTcpStream } from '../native';
import { nativeHandle, SocketStream } from './socket-stream';

/** The address of a Unix socket, as `localAddr` and `peerAddr` report it. */
export interface UnixSocketAddress {
  /** The socket file's path; `''` for an unnamed socket (such as a connecting client's end). */
  path: string;
}

/** Options for {@link UnixStream.connect}. */
export type UnixConnectOptions = AbortOptions;

/** Wraps a native stream handle; set in the class's static block (the constructor is private). */
let wrap: (handle: NativeTcpStream) => UnixStream;

/** The longest path the platform's `sun_path` holds, in bytes (0: no Unix sockets). */
let pathMax: number | undefined;

/**
 * Validates a socket path: a non-empty string without NUL bytes whose UTF-8 form fits the
 * platform's `sun_path` (107 bytes on Linux, 103 on macOS and the BSDs).
 * @internal
 */
export function validateSocketPath(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value);
  if (value.length === 0) throw invalidArgValue(name, value, 'must not be empty');
  if (value.includes('\0')) throw invalidArgValue(name, value, 'must not contain null bytes');
  pathMax ??= native().unixPathMax();
  const bytes = Buffer.byteLength(value, 'utf8');
  if (pathMax > 0 && bytes > pathMax) {
    throw outOfRange(`${name}.length`, `at most ${pathMax} bytes (UTF-8), the platform's socket path limit`, `${bytes} bytes`);
  }
}

/**
 * A connected Unix domain stream socket.
 *
 * Get one from {@link UnixStream.connect} or {@link UnixListener.accept}. Everything a
 * {@link SocketStream} does works the same as on a {@link TcpStream}: FIFO reads and writes,
 * cancellation, idle timeouts, iteration, Web and Node stream adapters, and native `copy`
 * to and from TCP streams.
 *
 * @example
 * ```ts
 * const stream = await UnixStream.connect('/run/app.sock');
 * await stream.writeAll('ping');
 * const buf = new Uint8Array(64);
 * const n = await stream.read(buf); // null at end of stream
 * stream.close();
 * ```
 */
export class UnixStream extends SocketStream {
  #local: UnixSocketAddress | undefined;
  #peer: UnixSocketAddress | undefined;

  private constructor(handle: NativeTcpStream) {
    super(handle);
  }

  static {
    wrap = (handle) => new UnixStream(handle);
  }

  /**
   * Connects to the Unix stream socket at `path`.
   *
   * @param path - the socket file's path (relative paths are resolved against the current
   *   directory)
   * @param opts - `signal` cancels the connect
   * @returns the connected stream
   * @throws TypeError (synchronously) for a path that is not a non-empty string without NUL
   *   bytes; RangeError `ERR_OUT_OF_RANGE` for one longer than the platform's limit
   * @throws (rejects) `ENOENT` (no such file), `ECONNREFUSED` (nothing listens there),
   *   `EACCES`, ... with `syscall: 'connect'` and `address: path`; `ENOTSUP` on Windows;
   *   `AbortError` when aborted
   */
  static connect(path: string, opts?: UnixConnectOptions): Promise<UnixStream> {
    validateSocketPath(path, 'path');
    const signal = signalOf(opts, 'opts');
    const { NativeTcpStream: NativeStream } = native();
    const start = (opId: number): Promise<NativeTcpStream> => NativeStream.connectUnix(path, opId);
    const pending = signal === undefined ? start(0) : cancellable(signal, start);
    return pending.then(wrap, (err: unknown) => {
      throw fromNative(err, 'connect', path);
    });
  }

  /**
   * This side's address: the listener's path for an accepted stream, `''` for a connecting
   * client's end.
   * @throws `ERR_SOCKET_CLOSED` when first read after the stream was closed
   */
  get localAddr(): UnixSocketAddress {
    return (this.#local ??= this.#addr(false));
  }

  /**
   * The peer's address: the listener's path for a connected client, usually `''` for an
   * accepted stream.
   * @throws `ERR_SOCKET_CLOSED` when first read after the stream was closed
   */
  get peerAddr(): UnixSocketAddress {
    return (this.#peer ??= this.#addr(true));
  }

  #addr(peer: boolean): UnixSocketAddress {
    if (this.closed) throw socketClosedError(peer ? 'getpeername' : 'getsockname');
    const h = nativeHandle(this);
    return Object.freeze({ path: peer ? h.peerPath() : h.localPath() });
  }
}

/** @internal */
export function wrapUnixStream(handle: NativeTcpStream): UnixStream {
  return wrap(handle);
}
