/**
 * `UnixListener`: a listening Unix domain stream socket, accepting on corio's runtime.
 *
 * The socket file is created by `bind` and removed by `close` (as `node:net` does), so a
 * restarted service can bind the same path again. On Windows the class exists but `bind`
 * rejects with `ENOTSUP`.
 *
 * @module
 */

import { ERR_SOCKET_CLOSED, fromNative, signalOf, socketClosedError, validateInteger } from '../errors';
import { cancellable } from '../io/op';
import type { AbortOptions } from '../io/traits';
import { native, NativeUnixListener } from '../native';
import { UnixSocketAddress, UnixStream, validateSocketPath, wrapUnixStream } from './unix-stream';

/** Options for {@link UnixListener.bind}. */
export interface UnixBindOptions extends AbortOptions {
  /** The length of the kernel's queue of connections not yet accepted (default 1024). */
  backlog?: number;
}

/** The default accept backlog. */
const DEFAULT_BACKLOG = 1024;

let wrap: (handle: NativeUnixListener) => UnixListener;

function rethrowAccept(err: unknown): never {
  throw fromNative(err, 'accept');
}

/**
 * A Unix domain stream socket listening for connections at a path.
 *
 * An open listener keeps the Node process alive (like a listening `net.Server`) until it is
 * closed or {@link UnixListener.unref | unref}'d. Closing it removes its socket file.
 *
 * @example
 * ```ts
 * await using listener = await UnixListener.bind('/tmp/app.sock');
 * for await (const socket of listener) {
 *   handle(socket); // don't await here: serve connections concurrently
 * }
 * ```
 */
export class UnixListener implements AsyncIterable<UnixStream>, AsyncDisposable {
  readonly #h: NativeUnixListener;
  readonly #local: UnixSocketAddress;
  #closed = false;

  private constructor(handle: NativeUnixListener) {
    this.#h = handle;
    this.#local = Object.freeze({ path: handle.path });
  }

  static {
    wrap = (handle) => new UnixListener(handle);
  }

  /**
   * Creates the socket file at `path` and listens on it.
   *
   * @param path - where to create the socket file; it must not exist (a stale file left by a
   *   crashed process must be removed first, as with `node:net`)
   * @param opts - `backlog`, and `signal` to cancel the bind
   * @returns the listener
   * @throws TypeError (synchronously) for a path that is not a non-empty string without NUL
   *   bytes; RangeError `ERR_OUT_OF_RANGE` for one longer than the platform's limit (107
   *   bytes on Linux, 103 on macOS)
   * @throws (rejects) `EADDRINUSE` (the path exists), `EACCES`, `ENOENT` (no such directory),
   *   ... with `syscall` and `address: path`; `ENOTSUP` on Windows; `AbortError` when aborted
   */
  static bind(path: string, opts?: UnixBindOptions): Promise<UnixListener> {
    validateSocketPath(path, 'path');
    const signal = signalOf(opts, 'opts');
    let backlog = DEFAULT_BACKLOG;
    if (opts?.backlog !== undefined) {
      validateInteger(opts.backlog, 'opts.backlog', 1, 65535);
      backlog = opts.backlog;
    }
    const { NativeUnixListener: NativeListener } = native();
    const start = (opId: number): Promise<NativeUnixListener> => NativeListener.bind(path, backlog, opId);
    const pending = signal === undefined ? start(0) : cancellable(signal, start);
    return pending.then(wrap, (err: unknown) => {
      throw fromNative(err, 'listen', path);
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
  accept(opts?: AbortOptions): Promise<UnixStream> {
    const signal = opts === undefined ? undefined : signalOf(opts, 'opts');
    if (this.#closed) return Promise.reject(socketClosedError('accept'));
    const h = this.#h;
    const pending = signal === undefined ? h.accept(0) : cancellable(signal, (opId) => h.accept(opId));
    return pending.then(wrapUnixStream, rethrowAccept);
  }

  /** The path the listener is bound to, as given to {@link UnixListener.bind}. */
  get localAddr(): UnixSocketAddress {
    return this.#local;
  }

  /**
   * Stops listening, releases the socket and removes the socket file (if the path still names
   * the file this listener created). A pending `accept` rejects with `ERR_SOCKET_CLOSED`, and a
   * `for await` loop over the listener ends. Connections accepted earlier stay open.
   * Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#h.close();
  }

  /** Whether {@link UnixListener.close} has been called. */
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
  async *[Symbol.asyncIterator](): AsyncGenerator<UnixStream, void, undefined> {
    try {
      for (;;) {
        let stream: UnixStream;
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
