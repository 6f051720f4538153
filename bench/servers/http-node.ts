/**
 * HTTP benchmark server: `node:http` on its own `net.Server`, the peer. Every request gets the
 * same 12-byte body (keep-alive). Prints `listening <port>` once bound to 127.0.0.1.
 *
 * @module
 */
import * as http from 'node:http';
import { handler } from './http-handler';

const server = http.createServer(handler);
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening ${(server.address() as { port: number }).port}`);
});
