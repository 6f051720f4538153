/**
 * `SocketListener`: what every listening socket (`TcpListener`, `UnixListener`) does the same
 * way, written once: accepting (with cancellation), closing, ref/unref, `for await` and
 * `await using`. The subclasses add how a listener is bound and what its address is.
 *
 * @module
 */

import { ERR_SOCKET_CLOSED, fromNative, signalOf, socketClosedError } from '../errors';
import { cancellable } from '../io/op';
import type { AbortOptions } from '../io/traits';
import type { NativeTcpStream } from '../native';
import type { SocketStream } from './socket-stream';

/** The native listener methods this class uses (both native listener classes have them). @internal */
export interface NativeListenerHandle {
  accept(opId: number): Promise<NativeTcpStream>;
  close(): void;
  ref(): void;
  unref(): void;
}

function rethrowAccept(err: unknown): never {
  throw fromNative(err, 'accept');
}

/**
 * A socket listening for connections: the common base of `TcpListener` and `UnixListener`.
 *
 * An open listener keeps the Node process alive (like a listening `net.Server`) until it is
 * closed or {@link SocketListener.unref | unref}'d. Not constructed directly: get one from a
 * subclass's `bind`.
 */
export abstract class SocketListener<S extends SocketStream> implements AsyncIterable<S>, AsyncDisposable {
  readonly #h: NativeListenerHandle;
  readonly #wrap: (handle: NativeTcpStream) => S;
  #closed = false;

  /** @internal */
  protected constructor(handle: NativeListenerHandle, wrap: (handle: NativeTcpStream) => S) {
    this.#h = handle;
    this.#wrap = wrap;
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
  accept(opts?: AbortOptions): Promise<S> {
    const signal = opts === undefined ? undefined : signalOf(opts, 'opts');
    if (this.#closed) return Promise.reject(socketClosedError('accept'));
    const h = this.#h;
    const pending = signal === undefined ? h.accept(0) : cancellable(signal, (opId) => h.accept(opId));
    return pending.then(this.#wrap, rethrowAccept);
  }

  /**
   * Stops listening and releases the socket at once. A pending `accept` rejects with
   * `ERR_SOCKET_CLOSED`, and a `for await` loop over the listener ends. Connections accepted
   * earlier stay open. Idempotent. (A `UnixListener` also removes its socket file.)
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#h.close();
  }

  /** Whether {@link SocketListener.close} has been called. */
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
  async *[Symbol.asyncIterator](): AsyncGenerator<S, void, undefined> {
    try {
      for (;;) {
        let stream: S;
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
