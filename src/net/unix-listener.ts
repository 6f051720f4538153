/**
 * `UnixListener`: a listening Unix domain stream socket, accepting on corio's runtime.
 *
 * The socket file is created by `bind` and removed by `close` (as `node:net` does), so a
 * restarted service can bind the same path again. On Windows the class exists but `bind`
 * rejects with `ENOTSUP`.
 *
 * @module
 */

import { fromNative, signalOf, validateInteger } from '../errors';
import { cancellable } from '../io/op';
import type { AbortOptions } from '../io/traits';
import { native, NativeUnixListener } from '../native';
import { SocketListener } from './socket-listener';
import { UnixSocketAddress, UnixStream, validateSocketPath, wrapUnixStream } from './unix-stream';

/** Options for {@link UnixListener.bind}. */
export interface UnixBindOptions extends AbortOptions {
  /** The length of the kernel's queue of connections not yet accepted (default 1024). */
  backlog?: number;
}

/** The default accept backlog. */
const DEFAULT_BACKLOG = 1024;

let wrap: (handle: NativeUnixListener) => UnixListener;

/**
 * A Unix domain stream socket listening for connections at a path.
 *
 * An open listener keeps the Node process alive (like a listening `net.Server`) until it is
 * closed or {@link SocketListener.unref | unref}'d. {@link SocketListener.close | Closing} it
 * also removes its socket file (if the path still names the file this listener created).
 *
 * @example
 * ```ts
 * await using listener = await UnixListener.bind('/tmp/app.sock');
 * for await (const socket of listener) {
 *   handle(socket); // don't await here: serve connections concurrently
 * }
 * ```
 */
export class UnixListener extends SocketListener<UnixStream> {
  readonly #local: UnixSocketAddress;

  private constructor(handle: NativeUnixListener) {
    super(handle, wrapUnixStream);
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

  /** The path the listener is bound to, as given to {@link UnixListener.bind}. */
  get localAddr(): UnixSocketAddress {
    return this.#local;
  }
}
