/**
 * `TcpStream`: a connected TCP socket whose I/O runs on corio's runtime threads.
 *
 * Reading, writing, closing, iteration and the stream adapters are `SocketStream`'s
 * (`socket-stream.ts`, shared with `UnixStream`); this class adds connecting by address, IP
 * addresses and the TCP socket options.
 *
 * @module
 */

import { fromNative, signalOf, socketClosedError, validateBoolean, validateInteger } from '../errors';
import { cancellable } from '../io/op';
import type { AbortOptions } from '../io/traits';
import { native, NativeConnectOptions, NativeTcpStream } from '../native';
import { AddressInput, parseAddress, SocketAddress } from './addr';
import { nativeHandle, SocketStream } from './socket-stream';

/** Options for {@link TcpStream.connect}. */
export interface ConnectOptions extends AbortOptions {
  /** Disable Nagle's algorithm on the new socket (see {@link TcpStream.setNoDelay}). */
  noDelay?: boolean;
  /** Enable TCP keep-alive on the new socket (see {@link TcpStream.setKeepAlive}). */
  keepAlive?: boolean;
}

/** Wraps a native stream handle; set in the class's static block (the constructor is private). */
let wrap: (handle: NativeTcpStream) => TcpStream;

/**
 * A connected TCP socket.
 *
 * Get one from {@link TcpStream.connect} or {@link TcpListener.accept}. Reads and writes are
 * promises; reads and writes may be pending at the same time (several reads queue in order, so
 * do several writes). Close it with {@link SocketStream.close} or `await using`.
 *
 * @example
 * ```ts
 * const stream = await TcpStream.connect('127.0.0.1:8080');
 * await stream.writeAll('hello');
 * const buf = new Uint8Array(1024);
 * const n = await stream.read(buf); // null at end of stream
 * stream.close();
 * ```
 */
export class TcpStream extends SocketStream {
  #local: SocketAddress | undefined;
  #peer: SocketAddress | undefined;

  private constructor(handle: NativeTcpStream) {
    super(handle);
  }

  static {
    wrap = (handle) => new TcpStream(handle);
  }

  /**
   * Opens a TCP connection.
   *
   * @param addr - `"host:port"`, `"[ipv6]:port"` or `{ host = "127.0.0.1", port }`; host names
   *   are resolved off the JS thread
   * @param opts - `signal` cancels the connect; `noDelay`/`keepAlive` set those socket options
   * @returns the connected stream
   * @throws TypeError/RangeError (synchronously) for a bad argument
   * @throws (rejects) `ECONNREFUSED`, `ETIMEDOUT`, `ENOTFOUND`, ... with `syscall`, `address`,
   *   `port`; `AbortError` when aborted
   */
  static connect(addr: AddressInput, opts?: ConnectOptions): Promise<TcpStream> {
    const { host, port } = parseAddress(addr, 'addr', false);
    const signal = signalOf(opts, 'opts');
    let nativeOpts: NativeConnectOptions | undefined;
    if (opts !== undefined) {
      const { noDelay, keepAlive } = opts;
      if (noDelay !== undefined) validateBoolean(noDelay, 'opts.noDelay');
      if (keepAlive !== undefined) validateBoolean(keepAlive, 'opts.keepAlive');
      if (noDelay !== undefined || keepAlive !== undefined) nativeOpts = { noDelay, keepAlive };
    }
    const { NativeTcpStream: NativeStream } = native();
    const start = (opId: number): Promise<NativeTcpStream> => NativeStream.connect(host, port, nativeOpts, opId);
    const pending = signal === undefined ? start(0) : cancellable(signal, start);
    return pending.then(wrap, (err: unknown) => {
      throw fromNative(err, 'connect', host, port);
    });
  }

  /**
   * This side's address.
   * @throws `ERR_SOCKET_CLOSED` when first read after the stream was closed
   */
  get localAddr(): SocketAddress {
    return (this.#local ??= this.#addr('localAddr'));
  }

  /**
   * The peer's address.
   * @throws `ERR_SOCKET_CLOSED` when first read after the stream was closed
   */
  get peerAddr(): SocketAddress {
    return (this.#peer ??= this.#addr('peerAddr'));
  }

  #addr(which: 'localAddr' | 'peerAddr'): SocketAddress {
    if (this.closed) throw socketClosedError(which === 'localAddr' ? 'getsockname' : 'getpeername');
    const a = nativeHandle(this)[which]();
    return Object.freeze({ address: a.address, port: a.port, family: a.family });
  }

  /**
   * Disables (`true`, the default) or enables Nagle's algorithm (`TCP_NODELAY`). With it
   * disabled, small writes are sent at once instead of being coalesced.
   *
   * @param on - `true` to send small writes at once
   */
  setNoDelay(on = true): this {
    validateBoolean(on, 'on');
    if (this.closed) throw socketClosedError('setsockopt');
    nativeHandle(this).setNoDelay(on);
    return this;
  }

  /**
   * Enables (`true`, the default) or disables TCP keep-alive probes (`SO_KEEPALIVE`).
   *
   * @param on - whether to send keep-alive probes
   * @param initialDelayMs - idle time before the first probe, in milliseconds
   */
  setKeepAlive(on = true, initialDelayMs?: number): this {
    validateBoolean(on, 'on');
    if (initialDelayMs !== undefined) validateInteger(initialDelayMs, 'initialDelayMs', 0, 0x7fff_ffff);
    if (this.closed) throw socketClosedError('setsockopt');
    nativeHandle(this).setKeepAlive(on, initialDelayMs);
    return this;
  }
}

/** @internal */
export function wrapNativeStream(handle: NativeTcpStream): TcpStream {
  return wrap(handle);
}
