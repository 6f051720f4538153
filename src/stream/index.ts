/**
 * Stream combinators for async iterables. `StreamMap` merges keyed streams (seed 004).
 * @module
 */

export { StreamMap } from './stream-map';
export type { StreamMapNextOptions } from './stream-map';
export { StreamMapError } from './errors';
