/**
 * `TcpListener`: a bound, listening TCP socket that accepts connections on corio's runtime.
 *
 * @module
 */

import {
  fromNative,
  signalOf,
  socketClosedError,
  validateBoolean,
  validateInteger,
} from '../errors';
import { cancellable } from '../io/op';
import type { AbortOptions } from '../io/traits';
import { native, NativeTcpListener, NativeTcpStream } from '../native';
import { AddressInput, parseAddress, SocketAddress } from './addr';
import { SocketListener } from './socket-listener';
import { TcpStream, wrapNativeStream } from './tcp-stream';

/** Options for {@link TcpListener.bind}. */
export interface BindOptions extends AbortOptions {
  /** The length of the kernel's queue of connections not yet accepted (default 1024). */
  backlog?: number;
  /**
   * Sets `SO_REUSEPORT` so several listeners (processes or threads) can bind the same port and
   * share its connections. Where the platform has no such option (Windows), `bind` rejects with
   * `ENOTSUP`. Default `false`.
   */
  reusePort?: boolean;
  /**
   * An idle timeout in milliseconds applied to every accepted stream, as
   * {@link TcpStream.setIdleTimeout} does (0, the default, disables it). Guards against clients
   * that hold a connection open without sending anything.
   */
  idleTimeout?: number;
}

/** The default accept backlog. */
const DEFAULT_BACKLOG = 1024;

let wrap: (handle: NativeTcpListener, idleTimeout: number) => TcpListener;

/**
 * A TCP socket listening for connections.
 *
 * An open listener keeps the Node process alive (like a listening `net.Server`) until it is
 * closed or {@link SocketListener.unref | unref}'d.
 *
 * @example
 * ```ts
 * await using listener = await TcpListener.bind({ port: 8080 });
 * for await (const socket of listener) {
 *   handle(socket); // don't await here: serve connections concurrently
 * }
 * ```
 */
export class TcpListener extends SocketListener<TcpStream> {
  readonly #h: NativeTcpListener;
  #local: SocketAddress | undefined;
  /** Idle timeout (ms) given to accepted streams; 0 = none. */
  readonly #idleTimeout: number;

  private constructor(handle: NativeTcpListener, idleTimeout: number) {
    // `wrapNativeStream`, plus the idle timeout when there is one.
    super(
      handle,
      idleTimeout === 0
        ? wrapNativeStream
        : (h: NativeTcpStream): TcpStream => {
            h.setIdleTimeout(idleTimeout);
            return wrapNativeStream(h);
          },
    );
    this.#h = handle;
    this.#idleTimeout = idleTimeout;
  }

  static {
    wrap = (handle, idleTimeout) => new TcpListener(handle, idleTimeout);
  }

  /**
   * Binds a listening socket.
   *
   * @param addr - `"host:port"`, `"[ipv6]:port"` or `{ host = "127.0.0.1", port }`; port `0`
   *   lets the OS pick a free port (read it from {@link TcpListener.localAddr})
   * @param opts - `backlog`, `reusePort`, `idleTimeout` (for accepted streams), and `signal`
   *   to cancel the bind (host resolution)
   * @returns the listener
   * @throws TypeError/RangeError (synchronously) for a bad argument
   * @throws (rejects) `EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`, ... with `syscall`, `address`,
   *   `port`; `AbortError` when aborted
   */
  static bind(addr: AddressInput, opts?: BindOptions): Promise<TcpListener> {
    const { host, port } = parseAddress(addr, 'addr', true);
    const signal = signalOf(opts, 'opts');
    let backlog = DEFAULT_BACKLOG;
    let reusePort = false;
    let idleTimeout = 0;
    if (opts !== undefined) {
      if (opts.idleTimeout !== undefined) {
        validateInteger(opts.idleTimeout, 'opts.idleTimeout', 0, 0x7fff_ffff);
        idleTimeout = opts.idleTimeout;
      }
      if (opts.backlog !== undefined) {
        validateInteger(opts.backlog, 'opts.backlog', 1, 65535);
        backlog = opts.backlog;
      }
      if (opts.reusePort !== undefined) {
        validateBoolean(opts.reusePort, 'opts.reusePort');
        reusePort = opts.reusePort;
      }
    }
    const { NativeTcpListener: NativeListener } = native();
    const start = (opId: number): Promise<NativeTcpListener> => NativeListener.bind(host, port, backlog, reusePort, opId);
    const pending = signal === undefined ? start(0) : cancellable(signal, start);
    return pending.then((handle) => wrap(handle, idleTimeout), (err: unknown) => {
      throw fromNative(err, 'listen', host, port);
    });
  }

  /**
   * The address the listener is bound to (with the actual port when bound to port 0).
   * @throws `ERR_SOCKET_CLOSED` when first read after the listener was closed
   */
  get localAddr(): SocketAddress {
    if (this.#local === undefined) {
      if (this.closed) throw socketClosedError('getsockname');
      const a = this.#h.localAddr();
      this.#local = Object.freeze({ address: a.address, port: a.port, family: a.family });
    }
    return this.#local;
  }

  /** The idle timeout (ms) every accepted stream gets (`opts.idleTimeout` of `bind`; 0 = none). */
  get idleTimeout(): number {
    return this.#idleTimeout;
  }
}
