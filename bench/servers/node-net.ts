/**
 * Echo benchmark server: node:net, the peer corio is measured against. Each connection is
 * echoed with `socket.pipe(socket)` (Node's idiomatic echo, with backpressure), Nagle off.
 * Prints `listening <port>` once bound to 127.0.0.1 (port 0 = any free port unless PORT is set).
 *
 * @module
 */
import * as net from 'node:net';

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => socket.destroy()); // a client reset is not a server failure
  socket.pipe(socket);
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const a = server.address() as net.AddressInfo;
  console.log(`listening ${a.port}`);
});
