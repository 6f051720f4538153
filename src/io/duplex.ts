/**
 * A Node `stream.Duplex` over a corio byte stream: `stream.toNodeStream()`.
 *
 * This is how corio sockets plug into the Node ecosystem: `http.Server`, `tls.connect({ socket
 * })`, `stream.pipeline`. Backpressure is kept end to end: `_read` starts a socket read only when
 * Node's readable buffer wants data (and stops when `push` says it is full), and `_write` calls
 * back only after the bytes were handed to the kernel, so `write()` returns `false` and `'drain'`
 * fires exactly as for a `net.Socket`. Ending the writable side half-closes the socket
 * (`_final` → `shutdown()`), destroying the duplex closes it (`_destroy` → `close()`).
 *
 * The duplex also has the parts of `net.Socket` that servers use: `setTimeout` (idle timeout,
 * emits `'timeout'`; `http.Server` uses it for keep-alive), `setNoDelay`, `setKeepAlive`,
 * `ref`/`unref` (a keep-alive `http.Agent` calls them) and the `remoteAddress`/`localAddress`
 * family of getters.
 *
 * @module
 */

import { Duplex } from 'node:stream';
import { ChunkReader } from './chunks';
import type { ByteStream } from './traits';
import type { SocketAddress } from '../net/addr';
import { validateFunction, validateMs } from '../internal/validate';
import { MAX_TIMER_MS } from '../time/sleep';

/** What the duplex needs beyond a byte stream; sockets have all of it. @internal */
export interface SocketLike extends ByteStream {
  readonly localAddr?: SocketAddress;
  readonly peerAddr?: SocketAddress;
  setNoDelay?(on?: boolean): unknown;
  setKeepAlive?(on?: boolean, initialDelayMs?: number): unknown;
  ref?(): unknown;
  unref?(): unknown;
}

/** Options for {@link TcpStream.toNodeStream}. */
export interface NodeStreamOptions {
  /**
   * Whether the writable side stays open after the peer ended its side (`'end'`). Like
   * `net.Socket`, the default `false` ends the writable side (shutting the socket down for
   * writing) once the readable side has ended.
   */
  allowHalfOpen?: boolean;
  /** Node's `readableHighWaterMark` (bytes buffered before reading pauses). */
  readableHighWaterMark?: number;
  /** Node's `writableHighWaterMark` (bytes buffered before `write()` returns false). */
  writableHighWaterMark?: number;
}

/**
 * A `stream.Duplex` over a corio socket, with the `net.Socket` members servers rely on.
 * Obtain one with `TcpStream.toNodeStream()`.
 */
export class SocketDuplex extends Duplex {
  readonly #socket: SocketLike;
  readonly #chunks: ChunkReader;
  #reading = false;
  #timeoutMs = 0;
  #timer: NodeJS.Timeout | undefined;

  /** @internal */
  constructor(socket: SocketLike, options: NodeStreamOptions = {}) {
    super({
      allowHalfOpen: options.allowHalfOpen ?? false,
      readableHighWaterMark: options.readableHighWaterMark,
      writableHighWaterMark: options.writableHighWaterMark,
      decodeStrings: true,
      emitClose: true,
      autoDestroy: true,
    });
    this.#socket = socket;
    this.#chunks = new ChunkReader(socket);
  }

  /** @internal */
  override _read(): void {
    if (this.#reading) return;
    this.#reading = true;
    void this.#pump();
  }

  /** Reads while Node's buffer has room; stops when `push` reports it full. */
  async #pump(): Promise<void> {
    try {
      for (;;) {
        const chunk = await this.#chunks.next();
        if (this.destroyed) return;
        this.#touch();
        if (chunk === null) {
          this.push(null);
          return;
        }
        if (!this.push(chunk)) return;
      }
    } catch (err) {
      if (!this.destroyed) this.destroy(err as Error);
    } finally {
      this.#reading = false;
    }
  }

  /** @internal */
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#touch();
    this.#socket.writeAll(chunk).then(callback as () => void, callback);
  }

  /** @internal */
  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, callback: (error?: Error | null) => void): void {
    this.#touch();
    const data = chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk));
    this.#socket.writeAll(data).then(callback as () => void, callback);
  }

  /** @internal */
  override _final(callback: (error?: Error | null) => void): void {
    this.#socket.shutdown().then(callback as () => void, callback);
  }

  /** @internal */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#clearTimer();
    try {
      this.#socket.close();
    } catch {
      // Closing is idempotent and never fails for corio sockets; ignore anything else.
    }
    callback(error);
  }

  /**
   * Like `net.Socket#setTimeout`: emits `'timeout'` after `ms` milliseconds without reads or
   * writes (the socket is not closed; the listener decides). `0` disables it.
   *
   * @param ms - the idle time in milliseconds, a finite number >= 0; as for `net.Socket`, a
   *   value above 2^31 - 1 (Node's longest timer) is clamped to it rather than firing at once
   * @param callback - added as a one-time `'timeout'` listener
   * @throws TypeError `ERR_INVALID_ARG_TYPE` / RangeError `ERR_OUT_OF_RANGE` for a bad `ms`, a
   *   TypeError for a `callback` that is not a function
   */
  setTimeout(ms: number, callback?: () => void): this {
    validateMs(ms, 'msecs');
    if (callback !== undefined) validateFunction(callback, 'callback');
    this.#timeoutMs = Math.min(ms, MAX_TIMER_MS);
    if (callback !== undefined) {
      if (this.#timeoutMs === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    this.#clearTimer();
    if (this.#timeoutMs > 0 && !this.destroyed) {
      this.#timer = setTimeout(() => this.emit('timeout'), this.#timeoutMs);
      this.#timer.unref();
    }
    return this;
  }

  /** Disables or enables Nagle's algorithm (see `TcpStream.setNoDelay`). */
  setNoDelay(noDelay = true): this {
    this.#socket.setNoDelay?.(noDelay);
    return this;
  }

  /** Enables or disables TCP keep-alive (see `TcpStream.setKeepAlive`). */
  setKeepAlive(enable = true, initialDelayMs?: number): this {
    this.#socket.setKeepAlive?.(enable, initialDelayMs);
    return this;
  }

  /**
   * Like `net.Socket#ref`: pending reads and writes keep the process alive again (the
   * default; see `TcpStream.ref`). A keep-alive `http.Agent` calls it when it reuses a socket.
   */
  ref(): this {
    if (!this.destroyed) this.#socket.ref?.();
    return this;
  }

  /**
   * Like `net.Socket#unref`: the process may exit while this socket waits (see
   * `TcpStream.unref`). A keep-alive `http.Agent` calls it on a pooled idle socket.
   */
  unref(): this {
    if (!this.destroyed) this.#socket.unref?.();
    return this;
  }

  /** The peer's IP address, as on `net.Socket`. */
  get remoteAddress(): string | undefined {
    return this.#addr('peerAddr')?.address;
  }

  /** The peer's port, as on `net.Socket`. */
  get remotePort(): number | undefined {
    return this.#addr('peerAddr')?.port;
  }

  /** The peer's address family, as on `net.Socket`. */
  get remoteFamily(): string | undefined {
    return this.#addr('peerAddr')?.family;
  }

  /** The local IP address, as on `net.Socket`. */
  get localAddress(): string | undefined {
    return this.#addr('localAddr')?.address;
  }

  /** The local port, as on `net.Socket`. */
  get localPort(): number | undefined {
    return this.#addr('localAddr')?.port;
  }

  /** The local address family, as on `net.Socket`. */
  get localFamily(): string | undefined {
    return this.#addr('localAddr')?.family;
  }

  #addr(which: 'peerAddr' | 'localAddr'): SocketAddress | undefined {
    try {
      return this.#socket[which];
    } catch {
      return undefined;
    }
  }

  #touch(): void {
    this.#timer?.refresh();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}
