/**
 * Byte-stream utilities: native `copy`/`copyBidirectional`, and the shapes (`ByteReader`,
 * `ByteWriter`, `ByteStream`) the stream adapters work on.
 *
 * @module
 */

export { copy, copyBidirectional } from './copy';
export type { AbortOptions, ByteReader, ByteWriter, ByteStream } from './traits';
export { SocketDuplex } from './duplex';
export type { NodeStreamOptions } from './duplex';
