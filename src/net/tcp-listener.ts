/**
 * `TcpListener`: a bound, listening TCP socket that accepts connections on corio's runtime.
 *
 * @module
 */

import {
  ERR_SOCKET_CLOSED,
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

let wrap: (handle: NativeTcpListener) => TcpListener;

/**
 * A TCP socket listening for connections.
 *
 * An open listener keeps the Node process alive (like a listening `net.Server`) until it is
 * closed or {@link TcpListener.unref | unref}'d.
 *
 * @example
 * ```ts
 * await using listener = await TcpListener.bind({ port: 8080 });
 * for await (const socket of listener) {
 *   handle(socket); // don't await here: serve connections concurrently
 * }
 * ```
 */
export class TcpListener implements AsyncIterable<TcpStream>, AsyncDisposable {
  readonly #h: NativeTcpListener;
  #closed = false;
  #local: SocketAddress | undefined;
  /** Idle timeout (ms) given to accepted streams; 0 = none. */
  #idleTimeout = 0;
  /** `wrapNativeStream` plus the idle timeout, made once at bind when there is one. */
  #wrapAccepted: (handle: NativeTcpStream) => TcpStream = wrapNativeStream;

  private constructor(handle: NativeTcpListener) {
    this.#h = handle;
  }

  static {
    wrap = (handle) => new TcpListener(handle);
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
    const done = idleTimeout === 0 ? wrap : (handle: NativeTcpListener): TcpListener => {
      const l = wrap(handle);
      l.#idleTimeout = idleTimeout;
      l.#wrapAccepted = (h) => {
        h.setIdleTimeout(idleTimeout);
        return wrapNativeStream(h);
      };
      return l;
    };
    return pending.then(done, (err: unknown) => {
      throw fromNative(err, 'listen', host, port);
    });
  }

  /**
   * Waits for the next connection.
   *
   * @param opts - `signal` cancels the wait (a connection arriving later stays queued for the
   *   next accept)
   * @returns the connected stream
   * @throws (rejects) `ERR_SOCKET_CLOSED` if the listener is or gets closed; `AbortError` when
   *   aborted; OS errors such as `EMFILE` (the listener stays usable)
   */
  accept(opts?: AbortOptions): Promise<TcpStream> {
    const signal = opts === undefined ? undefined : signalOf(opts, 'opts');
    if (this.#closed) return Promise.reject(socketClosedError('accept'));
    const h = this.#h;
    const pending = signal === undefined ? h.accept(0) : cancellable(signal, (opId) => h.accept(opId));
    return pending.then(this.#wrapAccepted, rethrowAccept);
  }

  /**
   * The address the listener is bound to (with the actual port when bound to port 0).
   * @throws `ERR_SOCKET_CLOSED` when first read after the listener was closed
   */
  get localAddr(): SocketAddress {
    if (this.#local === undefined) {
      if (this.#closed) throw socketClosedError('getsockname');
      const a = this.#h.localAddr();
      this.#local = Object.freeze({ address: a.address, port: a.port, family: a.family });
    }
    return this.#local;
  }

  /**
   * Stops listening and releases the socket at once. A pending `accept` rejects with
   * `ERR_SOCKET_CLOSED`, and a `for await` loop over the listener ends. Connections accepted
   * earlier stay open. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#h.close();
  }

  /** The idle timeout (ms) every accepted stream gets (`opts.idleTimeout` of `bind`; 0 = none). */
  get idleTimeout(): number {
    return this.#idleTimeout;
  }

  /** Whether {@link TcpListener.close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Lets the open listener keep the Node event loop alive (the default). */
  ref(): this {
    if (!this.#closed) this.#h.ref();
    return this;
  }

  /** Lets the process exit while the listener is open, as `net.Server#unref` does. */
  unref(): this {
    if (!this.#closed) this.#h.unref();
    return this;
  }

  /**
   * Accepts connections one by one. The loop ends when the listener is closed; leaving it
   * (`break`, `return`, an exception) closes the listener. An accept error other than the
   * listener being closed is thrown out of the loop (after closing the listener).
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<TcpStream, void, undefined> {
    try {
      for (;;) {
        let stream: TcpStream;
        try {
          stream = await this.accept();
        } catch (err) {
          if (this.#closed && (err as { code?: unknown }).code === ERR_SOCKET_CLOSED) return;
          throw err;
        }
        yield stream;
      }
    } finally {
      this.close();
    }
  }

  /** Closes the listener (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}

function rethrowAccept(err: unknown): never {
  throw fromNative(err, 'accept');
}
