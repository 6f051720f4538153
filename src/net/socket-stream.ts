/**
 * `SocketStream`: what every connected stream socket (`TcpStream`, `UnixStream`) does the same
 * way, written once.
 *
 * Both kinds are one native stream class underneath (see `crates/corio-node/src/net/conn.rs`),
 * so reading, writing, half-closing, closing, idle timeouts, iteration and the Web/Node stream
 * adapters are the same code here; the subclasses add only how a stream is made and what its
 * addresses and socket options are.
 *
 * The hot path (`read`, `write`, `writeAll` without a signal) validates the argument, checks a
 * boolean and calls the binding's `tcpRead`/`tcpWrite`/`tcpWriteAll` with the handle's slot
 * number. The binding returns the result itself when the syscall completed at once (this file
 * wraps it in a resolved promise, or returns a shared resolved one for `writeAll`) and a
 * promise when the op must wait (asked to, it resolves `null` at end of stream; it shapes
 * errors with `code` and `syscall`): no closures, no per-call objects. An `AbortSignal` costs
 * an operation id and a listener, and only when given.
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
import { native, NativeBinding, NativeTcpStream } from '../native';

/** Reads a stream's native handle; set in the class's static block. */
let handleOf: (stream: SocketStream) => NativeTcpStream;

const rethrowRead = (err: unknown): never => {
  throw fromNative(err, 'read');
};
const resolvedZero = Promise.resolve(0);
const resolvedVoid = Promise.resolve();

/** The binding, set when the first stream is made (a stream exists only once it is loaded). */
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
 * A connected stream socket: the common base of `TcpStream` and `UnixStream`.
 *
 * Reads and writes are promises; a read and a write may be pending at the same time (several
 * reads queue in call order, so do several writes). Close it with {@link SocketStream.close}
 * or `await using`. Not constructed directly: get a stream from `connect` or `accept` of a
 * subclass or its listener.
 */
export abstract class SocketStream implements ByteStream, AsyncIterable<Uint8Array>, AsyncDisposable {
  readonly #h: NativeTcpStream;
  /** The handle's slot: what the binding's hot-path functions take. */
  readonly #slot: number;
  #closed = false;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  /** @internal */
  protected constructor(handle: NativeTcpStream) {
    this.#h = handle;
    this.#slot = handle.slot;
    bound ??= native();
  }

  static {
    handleOf = (stream) => stream.#h;
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
   *   `ETIMEDOUT` after its idle timeout fired ({@link SocketStream.setIdleTimeout});
   *   `AbortError` when aborted
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

  /** Whether {@link SocketStream.close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Closes the stream when it sees no traffic: once no byte has been read or written for `ms`
   * milliseconds, the connection is shut down both ways (the peer reads end of stream) and
   * every pending and later `read`, `write`, `writeAll` and `shutdown` rejects with an error
   * whose `code` is `'ETIMEDOUT'` (`syscall` `'read'`/`'write'`/`'shutdown'`), until
   * {@link SocketStream.close} is called (then `ERR_SOCKET_CLOSED`, as always). Call `close()`
   * to release the descriptor. Any read or write that moves at least one byte restarts the
   * clock, whichever path completes it (also `copy`). The check runs on corio's runtime every
   * `ms / 4` (at least 1 ms), so an idle stream is closed after between `ms` and
   * `ms + max(ms / 4, 1)` milliseconds (later under heavy load, never earlier). The timer never
   * keeps the process alive and ends with the stream. A new call replaces the previous timeout
   * and restarts the clock; `0` disables it.
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
   * {@link SocketStream.close}); other errors are thrown. Leaving the loop early (`break`) does
   * not close the stream: it can still be written, read or closed.
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

/**
 * The native handle of a stream, for its subclass and for native operations between streams
 * (`copy`).
 * @internal
 */
export function nativeHandle(stream: SocketStream): NativeTcpStream {
  return handleOf(stream);
}
