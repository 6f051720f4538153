/**
 * The typed loader of corio's generated native binding (`index.js` / `index.d.ts` at the
 * package root, produced by `napi build` from `crates/corio-node`).
 *
 * The binding is internal: the public API lives in the hand-written classes of `src/net`,
 * `src/io` and `src/runtime.ts`, which reach native code only through the interface declared
 * here. Declaring it by hand (instead of importing the generated `.d.ts`) keeps this package
 * type-checking before the binding is built, and keeps the one place where the two layers meet
 * readable. The binding is loaded lazily, on the first operation that needs it, so that
 * importing corio never fails before it is used and `runtime.configure()` can run first.
 *
 * @module
 * @internal
 */

import * as path from 'node:path';

/** A socket address as the binding reports it (IPv6 addresses bare, without brackets). */
export interface NativeAddr {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** Options for {@link NativeTcpStreamClass.connect}. */
export interface NativeConnectOptions {
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelayMs?: number;
}

/** A bound listening socket owned by the native runtime. */
export interface NativeTcpListener {
  /** Rejects with ERR_SOCKET_CLOSED if the listener is (or gets) closed while pending. */
  accept(opId: number): Promise<NativeTcpStream>;
  /** Throws ERR_SOCKET_CLOSED after close(). */
  localAddr(): NativeAddr;
  /** Synchronous, idempotent: pending ops reject ERR_SOCKET_CLOSED and the fd is released. */
  close(): void;
  ref(): void;
  unref(): void;
  readonly closed: boolean;
}

/** A listening Unix domain socket owned by the native runtime (unix only). */
export interface NativeUnixListener {
  /** Rejects with ERR_SOCKET_CLOSED if the listener is (or gets) closed while pending. */
  accept(opId: number): Promise<NativeTcpStream>;
  /** The path given to `bind`. */
  readonly path: string;
  /** Synchronous, idempotent: pending ops reject ERR_SOCKET_CLOSED, the fd is released and the socket file removed. */
  close(): void;
  ref(): void;
  unref(): void;
  readonly closed: boolean;
}

/**
 * A connected TCP or Unix socket owned by the native runtime. Its reads and writes are the binding's
 * free functions {@link NativeBinding.tcpRead}, `tcpWrite` and `tcpWriteAll`, which take its
 * {@link NativeTcpStream.slot} (cheaper per call than a method: see crates/corio-node/src/net/slots.rs).
 */
export interface NativeTcpStream {
  /** The number the hot-path functions take; valid on this thread while the object lives. */
  readonly slot: number;
  /** Half-close (SHUT_WR) after pending writes. */
  shutdown(opId?: number): Promise<void>;
  /** Synchronous, idempotent: pending ops reject ERR_SOCKET_CLOSED and the fd is released. */
  close(): void;
  setNoDelay(on: boolean): void;
  setKeepAlive(on: boolean, initialDelayMs?: number): void;
  /** Closes the stream for I/O after `ms` without a byte transferred (0 disables). */
  setIdleTimeout(ms: number): void;
  /** TCP only (ENOTSUP for a Unix socket). */
  localAddr(): NativeAddr;
  /** TCP only (ENOTSUP for a Unix socket). */
  peerAddr(): NativeAddr;
  /** Unix only (ENOTSUP for TCP): the path, `''` when unnamed. */
  localPath(): string;
  /** Unix only (ENOTSUP for TCP): the path, `''` when unnamed. */
  peerPath(): string;
  ref(): void;
  unref(): void;
  readonly closed: boolean;
}

/** The static side of the native listener class. */
export interface NativeTcpListenerClass {
  bind(host: string, port: number, backlog: number, reusePort: boolean, opId: number): Promise<NativeTcpListener>;
}

/** The static side of the native stream class. */
export interface NativeTcpStreamClass {
  connect(host: string, port: number, opts: NativeConnectOptions | undefined | null, opId: number): Promise<NativeTcpStream>;
  /** Rejects ENOTSUP where there are no Unix sockets (Windows). */
  connectUnix(path: string, opId: number): Promise<NativeTcpStream>;
}

/** The static side of the native Unix listener class. */
export interface NativeUnixListenerClass {
  /** Rejects ENOTSUP where there are no Unix sockets (Windows). */
  bind(path: string, backlog: number, opId: number): Promise<NativeUnixListener>;
}

/** The runtime's metrics as the binding reports them. */
export interface NativeMetrics {
  workers: number;
  aliveTasks: number;
  globalQueueDepth: number;
  pendingOps: number;
  refs: number;
  completions: number;
  wakeups: number;
  liveHandles: number;
}

/** Everything corio's TypeScript layer uses from the generated binding. */
export interface NativeBinding {
  configure(config: { workerThreads?: number }): void;
  metrics(): NativeMetrics;
  /** Shuts the process-wide runtime down for good; see `runtime.shutdown()`. */
  shutdownRuntime(): Promise<void>;
  /** Aborts the pending op with this id (no-op if unknown or finished); it rejects with ABORT_ERR. */
  cancel(opId: number): void;
  /**
   * Reads into `buf` from the stream in `slot`: the count read (at end of stream 0, or `null`
   * when `nullAtEof`; 0 is then only for an empty `buf`) when it completed at once, else a
   * promise of it. Rejections are `Error`s with `code` and `syscall: 'read'`.
   */
  tcpRead(slot: number, buf: Uint8Array, opId: number, nullAtEof?: boolean): number | null | Promise<number | null>;
  /** One write, possibly partial; `data` is copied at call time. The count, or a promise of it. */
  tcpWrite(slot: number, data: Uint8Array, opId: number): number | Promise<number>;
  /** Writes everything; what is not written at once is copied. `undefined` when done at once. */
  tcpWriteAll(slot: number, data: Uint8Array, opId: number): undefined | Promise<void>;
  NativeTcpListener: NativeTcpListenerClass;
  NativeTcpStream: NativeTcpStreamClass;
  NativeUnixListener: NativeUnixListenerClass;
  /** The longest Unix socket path in bytes (`sun_path` less its NUL); 0 without Unix sockets. */
  unixPathMax(): number;
  copy(from: NativeTcpStream, to: NativeTcpStream, opId: number): Promise<number>;
  copyBidirectional(a: NativeTcpStream, b: NativeTcpStream, opId: number): Promise<[number, number]>;
}

let binding: NativeBinding | undefined;

/**
 * Where the generated loader lives: the package root, one level above both `src/` (when run
 * from source through tsx) and `dist/` (when run compiled). `CORIO_NATIVE_PATH` overrides it
 * for unusual layouts.
 */
function bindingPath(): string {
  const override = process.env.CORIO_NATIVE_PATH;
  if (override) return path.resolve(override);
  return path.join(__dirname, '..', 'index.js');
}

/**
 * Returns the native binding, loading it on first use.
 *
 * @throws Error with code `ERR_CORIO_NATIVE_MISSING` when the binding cannot be loaded (not
 * built yet, or no prebuilt binary fits this platform); the loader's error is its `cause`.
 */
export function native(): NativeBinding {
  if (binding !== undefined) return binding;
  const file = bindingPath();
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    binding = require(file) as NativeBinding;
  } catch (cause) {
    const err = new Error(
      `corio: cannot load the native binding from ${file}. Build it from source with ` +
        '`npm run build` (needs cargo), or install a prebuilt package for ' +
        `${process.platform}-${process.arch}.`,
      { cause },
    ) as Error & { code: string };
    err.code = 'ERR_CORIO_NATIVE_MISSING';
    throw err;
  }
  return binding;
}

// ---------------------------------------------------------------------------------------------
// Operation ids: chosen by JS, unique among this environment's pending ops; 0 = uncancellable.

let lastOpId = 0;

/**
 * Allocates an id for a cancellable operation. Each Node environment (main thread or
 * worker_thread) loads its own copy of this module, so ids are unique per environment, as the
 * binding requires. Wraps long before reaching unsafe integers; by then the old ids have long
 * settled.
 */
export function nextOpId(): number {
  lastOpId = lastOpId >= 0x1f_ffff_ffff_ffff ? 1 : lastOpId + 1;
  return lastOpId;
}
