/**
 * HTTP benchmark server: `node:http` over corio sockets (`TcpListener` + `toNodeStream()`),
 * as docs/api-tcp.md shows. Prints `listening <port>` once bound to 127.0.0.1.
 *
 * @module
 */
import * as http from 'node:http';
import { TcpListener } from '../../src';
import { handler } from './http-handler';

async function main(): Promise<void> {
  const server = http.createServer(handler);
  const listener = await TcpListener.bind({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
  console.log(`listening ${listener.localAddr.port}`);
  for await (const socket of listener) server.emit('connection', socket.toNodeStream());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
