/**
 * README "Node streams and node:http": serve real HTTP requests with `http.Server` over corio
 * sockets through `toNodeStream()`, a `stream.Duplex` with net.Socket's backpressure.
 *
 * Self-contained: it makes one request with node:http, checks the answer, and exits 0.
 *   npx tsx examples/readme/http.ts
 */

import assert from 'node:assert/strict';
import * as http from 'node:http';
import { TcpListener } from '../../src';

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/corio', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body)).on('error', reject);
      })
      .on('error', reject);
  });
}

async function main(): Promise<void> {
  const listener = await TcpListener.bind({ port: 0 });
  const server = http.createServer((req, res) => {
    res.end(`hello from corio: ${req.method} ${req.url}\n`);
  });
  const accepting = (async () => {
    for await (const socket of listener) server.emit('connection', socket.toNodeStream());
  })();

  assert.equal(await get(listener.localAddr.port), 'hello from corio: GET /corio\n');

  listener.close();
  await accepting;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
