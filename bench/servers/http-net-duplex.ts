/**
 * HTTP benchmark server: `node:http` fed `net.Socket`s wrapped in a plain `stream.Duplex`, the
 * baseline for any socket that reaches `http.Server` as a generic stream
 * (`server.emit('connection', duplex)`). `http.Server` parses a real `net.Socket` straight from
 * its libuv handle (`parser.consume`); any other stream goes through `'data'` events and
 * JS-side parser calls. This server shows what that path costs with node:net underneath, so
 * corio's `toNodeStream()` (bench/servers/http-corio.ts) can be compared on equal terms.
 * Prints `listening <port>` once bound to 127.0.0.1.
 *
 * @module
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { handler } from './http-handler';

/** `socket` as a generic Duplex with backpressure both ways and the members http.Server calls. */
function wrap(socket: net.Socket): Duplex {
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(err, callback) {
      socket.destroy();
      callback(err);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('error', (err) => duplex.destroy(err));
  socket.on('timeout', () => duplex.emit('timeout'));
  return Object.assign(duplex, {
    setTimeout: (ms: number) => (socket.setTimeout(ms), duplex),
    setNoDelay: (on?: boolean) => (socket.setNoDelay(on), duplex),
    setKeepAlive: (on?: boolean, delay?: number) => (socket.setKeepAlive(on, delay), duplex),
  });
}

const server = http.createServer(handler);
const listener = net.createServer({ noDelay: true }, (socket) => server.emit('connection', wrap(socket)));
listener.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening ${(listener.address() as net.AddressInfo).port}`);
});
