/**
 * WHATWG Streams over a byte stream: `stream.readable` and `stream.writable`.
 *
 * The readable side is a byte stream (`type: 'bytes'`): a BYOB reader's buffer is read into
 * directly by the socket, with no intermediate copy in JS, and a default reader gets 64 KiB
 * chunks allocated by the stream itself (`autoAllocateChunkSize`). Reads happen only when the
 * consumer pulls, so a slow consumer leaves data in the kernel and TCP flow control slows the
 * peer down: the backpressure is real. The writable side writes each chunk completely before
 * accepting the next.
 *
 * @module
 * @internal
 */

import { invalidArgType } from '../errors';
import { CHUNK_SIZE } from './chunks';
import type { ByteStream } from './traits';

/**
 * A `ReadableStream` of bytes (BYOB capable) reading from `source`. Cancelling it closes
 * `source` (the socket cannot be closed for reading alone).
 */
export function readableFrom(source: ByteStream): ReadableStream<Uint8Array> {
  return new ReadableStream({
    type: 'bytes',
    autoAllocateChunkSize: CHUNK_SIZE,
    async pull(controller: ReadableByteStreamController): Promise<void> {
      // With autoAllocateChunkSize there is always a BYOB request to fill.
      const request = controller.byobRequest as ReadableStreamBYOBRequest;
      const view = request.view as ArrayBufferView;
      const n = await source.read(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
      if (n === null) {
        controller.close();
        request.respond(0);
      } else {
        request.respond(n);
      }
    },
    cancel(): void {
      source.close();
    },
  }) as ReadableStream<Uint8Array>;
}

/**
 * A `WritableStream<Uint8Array>` writing to `sink`: each chunk is written completely
 * (`writeAll`); `close()` shuts the write side down (half-close); `abort()` closes `sink`.
 */
export function writableTo(sink: ByteStream): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    start(controller: WritableStreamDefaultController): void {
      // The spec calls `abort()` below only after the write in flight settles, and a write
      // waiting for a peer that reads nothing never does: `writer.abort()` would hang with the
      // socket open. The controller's signal fires at once on abort, so close there (the
      // pending write then rejects with ERR_SOCKET_CLOSED). One listener per stream, nothing
      // per write.
      (controller as WritableStreamDefaultController & { signal: AbortSignal }).signal.addEventListener(
        'abort',
        () => sink.close(),
        { once: true },
      );
    },
    write(chunk: Uint8Array): Promise<void> {
      if (!(chunk instanceof Uint8Array)) return Promise.reject(invalidArgType('chunk', 'an instance of Uint8Array', chunk));
      return sink.writeAll(chunk);
    },
    close(): Promise<void> {
      return sink.shutdown();
    },
    abort(): void {
      sink.close();
    },
  });
}
