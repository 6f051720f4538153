/**
 * The request handler every HTTP benchmark server runs: a fixed 12-byte body, so the servers
 * differ only in the socket under `http.Server`.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const body = Buffer.from('hello world\n');

/** Answers every request with 200 and {@link body}. */
export function handler(_req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('content-type', 'text/plain');
  res.end(body);
}
