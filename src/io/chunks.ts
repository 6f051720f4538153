/**
 * Reading a byte stream as a sequence of owned chunks (for `for await`, and the Node `Duplex`).
 *
 * A chunk handed to user code must stay valid after the next read, so it cannot be a view of a
 * shared buffer. Allocating a full-size buffer for every read wastes memory when messages are
 * small, and copying every chunk wastes time when they are large. So each read goes into a
 * 64 KiB buffer; a read that fills at least half of it gives that buffer away (a view of it, no
 * copy) and the next read gets a new one, while a smaller read is copied out into a chunk of
 * its exact size and the buffer is kept for the next read.
 *
 * @module
 * @internal
 */

import type { ByteReader } from './traits';

/** The size of one read when reading chunks. */
export const CHUNK_SIZE = 64 * 1024;

/** Reads owned chunks from a {@link ByteReader}. */
export class ChunkReader {
  #buf: Buffer | undefined;
  readonly #source: ByteReader;
  readonly #size: number;

  /**
   * @param source - the stream to read
   * @param size - the most bytes one chunk holds
   */
  constructor(source: ByteReader, size = CHUNK_SIZE) {
    this.#source = source;
    this.#size = size;
  }

  /** Reads the next chunk; `null` at end of stream. */
  async next(signal?: AbortSignal): Promise<Buffer | null> {
    const buf = this.#buf ?? Buffer.allocUnsafe(this.#size);
    this.#buf = buf;
    const n = await this.#source.read(buf, signal === undefined ? undefined : { signal });
    if (n === null) return null;
    if (n >= buf.byteLength >>> 1) {
      this.#buf = undefined;
      return buf.subarray(0, n);
    }
    return Buffer.from(buf.subarray(0, n));
  }
}
