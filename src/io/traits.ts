/**
 * The byte-stream shapes the adapters in `src/io` work on.
 *
 * Like tokio's `AsyncRead`/`AsyncWrite`, these say what a socket can do without naming the
 * socket type, so the Web Streams and Node `Duplex` adapters, and the chunked iteration, serve
 * `TcpStream` today and any other connected byte stream (Unix sockets) tomorrow.
 *
 * @module
 */

/** Options accepted by a cancellable operation. */
export interface AbortOptions {
  /** Cancels the operation: it rejects with an `AbortError` (`code: 'ABORT_ERR'`). */
  signal?: AbortSignal;
}

/** Something bytes can be read from, into a caller's buffer. */
export interface ByteReader {
  /**
   * Reads up to `buf.byteLength` bytes into `buf`.
   * @returns the number of bytes read, or `null` at end of stream
   */
  read(buf: Uint8Array, opts?: AbortOptions): Promise<number | null>;
}

/** Something bytes can be written to and half-closed. */
export interface ByteWriter {
  /** Writes all of `data`. */
  writeAll(data: Uint8Array | string): Promise<void>;
  /** Shuts the write side down: the peer reads end of stream. */
  shutdown(): Promise<void>;
}

/** A connected byte stream: readable, writable, closable. */
export interface ByteStream extends ByteReader, ByteWriter {
  /** Closes the stream at once; pending operations reject with `ERR_SOCKET_CLOSED`. */
  close(): void;
}
