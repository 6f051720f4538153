/**
 * `TcpStream`: a connected TCP socket whose I/O runs on corio's runtime threads.
 *
 * The class is a thin shell around the native handle. On the hot path (`read`, `write`,
 * `writeAll` without a signal) it validates the argument, checks a boolean and calls the
 * binding's `tcpRead`/`tcpWrite`/`tcpWriteAll` with the handle's slot number. The binding
 * returns the result itself when the syscall completed at once (this file wraps it in a
 * resolved promise, or returns a shared resolved one for `writeAll`) and a promise when the
 * op must wait (asked to, it resolves `null` at end of stream; it shapes errors with `code` and
 * `syscall`): no closures, no per-call objects. An `AbortSignal` costs an operation id and a
 * listener, and only when given.
 *
 * @module
 */

import { Duplex } from 'node:stream';
import {
  ERR_SOCKET_CLOSED,
  fromNative,
  invalidArgType,
  signalOf,
  socketClosedError,
  validateBoolean,
  validateInteger,
  validateObject,
  validateUint8Array,
} from '../errors';
import { ChunkReader } from '../io/chunks';
import { NodeStreamOptions, SocketDuplex } from '../io/duplex';
import { cancellable } from '../io/op';
import type { AbortOptions, ByteStream } from '../io/traits';
import { readableFrom, writableTo } from '../io/web';
import { native, NativeBinding, NativeConnectOptions, NativeTcpStream } from '../native';
import { AddressInput, formatAddress, parseAddress, SocketAddress } from './addr';

/** Options for {@link TcpStream.connect}. */
export interface ConnectOptions extends AbortOptions {
  /** Disable Nagle's algorithm on the new socket (see {@link TcpStream.setNoDelay}). */
  noDelay?: boolean;
  /** Enable TCP keep-alive on the new socket (see {@link TcpStream.setKeepAlive}). */
  keepAlive?: boolean;
}

/** Wraps a native stream handle; set in the class's static block (the constructor is private). */
let wrap: (handle: NativeTcpStream) => TcpStream;
/** Reads a stream's native handle (for `copy`); set in the class's static block. */
let handleOf: (stream: TcpStream) => NativeTcpStream;

const rethrowRead = (err: unknown): never => {
  throw fromNative(err, 'read');
};
const resolvedZero = Promise.resolve(0);
const resolvedVoid = Promise.resolve();

/** The binding, set when the first stream is wrapped (a stream exists only once it is loaded). */
let bound: NativeBinding;

/**
 * The binding's `tcpRead`/`tcpWrite` return the value itself when the op completed at once
 * (a promise made here costs less than one made by the binding), a promise otherwise.
 */
const readResult = (r: number | null | Promise<number | null>): Promise<number | null> =>
  r === null || typeof r === 'number' ? Promise.resolve(r) : r;
const writeResult = (r: number | Promise<number>): Promise<number> => (typeof r === 'number' ? Promise.resolve(r) : r);
const writeAllResult = (r: undefined | Promise<void>): Promise<void> => (r === undefined ? resolvedVoid : r);

/**
 * A connected TCP socket.
 *
 * Get one from {@link TcpStream.connect} or {@link TcpListener.accept}. Reads and writes are
 * promises; reads and writes may be pending at the same time (several reads queue in order, so
 * do several writes). Close it with {@link TcpStream.close} or `await using`.
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
export class TcpStream implements ByteStream, AsyncIterable<Uint8Array>, AsyncDisposable {
  readonly #h: NativeTcpStream;
  /** The handle's slot: what the binding's hot-path functions take. */
  readonly #slot: number;
  #closed = false;
  #local: SocketAddress | undefined;
  #peer: SocketAddress | undefined;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  private constructor(handle: NativeTcpStream) {
    this.#h = handle;
    this.#slot = handle.slot;
    bound ??= native();
  }

  static {
    wrap = (handle) => new TcpStream(handle);
    handleOf = (stream) => stream.#h;
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
   * Reads up to `buf.byteLength` bytes into `buf`.
   *
   * Resolves as soon as any bytes arrived. A 0-byte `buf` resolves `0` at once.
   *
   * @param buf - where to put the bytes (Buffer or any Uint8Array)
   * @param opts - `signal` cancels the read (nothing is read into `buf` afterwards)
   * @returns the number of bytes read, or `null` at end of stream (the peer shut its side down)
   * @throws (rejects) `ECONNRESET`, ...; `ERR_SOCKET_CLOSED` if the stream is or gets closed;
   *   `ETIMEDOUT` after its idle timeout fired ({@link TcpStream.setIdleTimeout}); `AbortError`
   *   when aborted
   */
  read(buf: Uint8Array, opts?: AbortOptions): Promise<number | null> {
    validateUint8Array(buf, 'buf');
    const signal = opts === undefined ? undefined : signalOf(opts, 'opts');
    if (this.#closed) return Promise.reject(socketClosedError('read'));
    if (buf.byteLength === 0) return signal?.aborted ? cancellable(signal, () => resolvedZero) : resolvedZero;
    const slot = this.#slot;
    if (signal === undefined) return readResult(bound.tcpRead(slot, buf, 0, true));
    return cancellable(signal, (opId) => readResult(bound.tcpRead(slot, buf, opId, true))).then(undefined, rethrowRead);
  }

  /**
   * Writes some of `data`, in one system call's worth: the count may be less than the length.
   * The bytes are copied when the call is made, so `data` may be reused at once.
   *
   * @param data - bytes, or a string written as UTF-8
   * @param opts - `signal` cancels the write
   * @returns how many bytes were written
   * @throws (rejects) `EPIPE`, `ECONNRESET`, ...; `ERR_SOCKET_CLOSED`; `AbortError`
   */
  write(data: Uint8Array | string, opts?: AbortOptions): Promise<number> {
    const bytes = toBytes(data);
    const signal = opts === undefined ? undefined : signalOf(opts, 'opts');
    if (this.#closed) return Promise.reject(socketClosedError('write'));
    if (bytes.byteLength === 0) return signal?.aborted ? cancellable(signal, () => resolvedZero) : resolvedZero;
    const slot = this.#slot;
    if (signal === undefined) return writeResult(bound.tcpWrite(slot, bytes, 0));
    return cancellable(signal, (opId) => writeResult(bound.tcpWrite(slot, bytes, opId)));
  }

  /**
   * Writes all of `data`. The bytes are copied when the call is made, so `data` may be reused
   * at once. Resolves when the kernel has accepted the last byte: awaiting it is backpressure.
   *
   * @param data - bytes, or a string written as UTF-8
   * @param opts - `signal` cancels the write (some bytes may have been sent already)
   * @throws (rejects) `EPIPE`, `ECONNRESET`, ...; `ERR_SOCKET_CLOSED`; `AbortError`
   */
  writeAll(data: Uint8Array | string, opts?: AbortOptions): Promise<void> {
    const bytes = toBytes(data);
    const signal = opts === undefined ? undefined : signalOf(opts, 'opts');
    if (this.#closed) return Promise.reject(socketClosedError('write'));
    if (bytes.byteLength === 0) return signal?.aborted ? cancellable(signal, () => resolvedVoid) : resolvedVoid;
    const slot = this.#slot;
    if (signal === undefined) return writeAllResult(bound.tcpWriteAll(slot, bytes, 0));
    return cancellable(signal, (opId) => writeAllResult(bound.tcpWriteAll(slot, bytes, opId)));
  }

  /**
   * Half-closes the stream: after pending writes, the write side is shut down and the peer
   * reads end of stream. Reading from this side goes on.
   *
   * @throws (rejects) `ERR_SOCKET_CLOSED` if the stream is closed; `ENOTCONN`, ...
   */
  shutdown(): Promise<void> {
    if (this.#closed) return Promise.reject(socketClosedError('shutdown'));
    return this.#h.shutdown(0).then(undefined, (err: unknown) => {
      throw fromNative(err, 'shutdown');
    });
  }

  /**
   * Closes the stream at once and releases its file descriptor. Pending operations reject
   * with `ERR_SOCKET_CLOSED`. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#h.close();
  }

  /** Whether {@link TcpStream.close} has been called. */
  get closed(): boolean {
    return this.#closed;
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
    if (this.#closed) throw socketClosedError(which === 'localAddr' ? 'getsockname' : 'getpeername');
    const a = this.#h[which]();
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
    if (this.#closed) throw socketClosedError('setsockopt');
    this.#h.setNoDelay(on);
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
    if (this.#closed) throw socketClosedError('setsockopt');
    this.#h.setKeepAlive(on, initialDelayMs);
    return this;
  }

  /**
   * Closes the stream when it sees no traffic: once no byte has been read or written for `ms`
   * milliseconds, the connection is shut down both ways (the peer reads end of stream) and
   * every pending and later `read`, `write`, `writeAll` and `shutdown` rejects with an error
   * whose `code` is `'ETIMEDOUT'` (`syscall` `'read'`/`'write'`/`'shutdown'`), until
   * {@link TcpStream.close} is called (then `ERR_SOCKET_CLOSED`, as always). Call `close()` to
   * release the descriptor. Any read or write that moves at least one byte restarts the clock,
   * whichever path completes it (also `copy`). The check runs on corio's runtime every `ms / 4`
   * (at least 1 ms), so an idle stream is closed after between `ms` and `ms + max(ms / 4, 1)`
   * milliseconds (later under heavy load, never earlier). The timer never keeps the process alive and ends with the stream. A new
   * call replaces the previous timeout and restarts the clock; `0` disables it.
   *
   * @param ms - the idle time in milliseconds, an integer from 0 (disabled) to 2^31 - 1
   * @throws TypeError `ERR_INVALID_ARG_TYPE` / RangeError `ERR_OUT_OF_RANGE` for a bad `ms`;
   *   `ERR_SOCKET_CLOSED` if the stream is closed
   */
  setIdleTimeout(ms: number): this {
    validateInteger(ms, 'ms', 0, 0x7fff_ffff);
    if (this.#closed) throw socketClosedError('setIdleTimeout');
    this.#h.setIdleTimeout(ms);
    return this;
  }

  /**
   * Lets a pending operation on this stream keep the Node event loop alive (the default).
   */
  ref(): this {
    if (!this.#closed) this.#h.ref();
    return this;
  }

  /**
   * Stops pending operations on this stream from keeping the Node event loop alive: the process
   * may exit while they wait.
   */
  unref(): this {
    if (!this.#closed) this.#h.unref();
    return this;
  }

  /**
   * Yields the stream's bytes as `Uint8Array` (`Buffer`) chunks, until end of stream. Each
   * chunk is the caller's to keep. The loop also ends when this stream is closed (by
   * {@link TcpStream.close}); other errors are thrown. Leaving the loop early (`break`) does not
   * close the stream: it can still be written, read or closed.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    const chunks = new ChunkReader(this);
    for (;;) {
      let chunk: Uint8Array | null;
      try {
        chunk = await chunks.next();
      } catch (err) {
        if (this.#closed && (err as { code?: unknown }).code === ERR_SOCKET_CLOSED) return;
        throw err;
      }
      if (chunk === null) return;
      yield chunk;
    }
  }

  /**
   * The stream's bytes as a WHATWG byte `ReadableStream` (supports `getReader({ mode: 'byob' })`).
   * Reads happen only as the consumer pulls. Cancelling it closes the socket. The same object is
   * returned every time.
   */
  get readable(): ReadableStream<Uint8Array> {
    return (this.#readable ??= readableFrom(this));
  }

  /**
   * A WHATWG `WritableStream<Uint8Array>` writing to the socket. Closing it shuts the write side
   * down (half-close); aborting it closes the socket. The same object is returned every time.
   */
  get writable(): WritableStream<Uint8Array> {
    return (this.#writable ??= writableTo(this));
  }

  /**
   * A Node `stream.Duplex` over this socket with `net.Socket`'s backpressure behaviour
   * (`write()` returns false and `'drain'` follows), for `http.Server`, `stream.pipeline` and
   * friends: `server.emit('connection', stream.toNodeStream())`. Ending it half-closes the
   * socket; destroying it closes the socket. Use one adapter (or the stream itself) at a time.
   *
   * @param options - `allowHalfOpen` (default `false`, like `net.Socket`) and high-water marks
   */
  toNodeStream(options?: NodeStreamOptions): Duplex {
    if (options !== undefined) {
      validateObject(options, 'options');
      if (options.allowHalfOpen !== undefined) validateBoolean(options.allowHalfOpen, 'options.allowHalfOpen');
      if (options.readableHighWaterMark !== undefined) {
        validateInteger(options.readableHighWaterMark, 'options.readableHighWaterMark', 0, 0x7fff_ffff);
      }
      if (options.writableHighWaterMark !== undefined) {
        validateInteger(options.writableHighWaterMark, 'options.writableHighWaterMark', 0, 0x7fff_ffff);
      }
    }
    return new SocketDuplex(this, options);
  }

  /** Closes the stream (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}

function toBytes(data: Uint8Array | string): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (!(data instanceof Uint8Array)) throw invalidArgType('data', 'of type string or an instance of Uint8Array', data);
  return data;
}

/** @internal */
export function wrapNativeStream(handle: NativeTcpStream): TcpStream {
  return wrap(handle);
}

/**
 * The native handle of a stream, for native operations between streams (`copy`).
 * @internal
 */
export function nativeHandle(stream: TcpStream): NativeTcpStream {
  return handleOf(stream);
}
