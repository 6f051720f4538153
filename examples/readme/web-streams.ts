/**
 * README "Web Streams": `stream.readable` (a byte ReadableStream, BYOB capable) and
 * `stream.writable` (a WritableStream<Uint8Array>); piping one into the other is an echo with
 * backpressure (reads happen only as the writable side accepts).
 *
 * Self-contained: it echoes through a web-streams server, checks the bytes, and exits 0.
 *   npx tsx examples/readme/web-streams.ts
 */

import assert from 'node:assert/strict';
import { TcpListener, TcpStream } from '../../src';

async function main(): Promise<void> {
  const listener = await TcpListener.bind({ port: 0 });
  const serving = (async () => {
    for await (const socket of listener) {
      // Echo with web streams: closing `writable` at the end half-closes the socket.
      void socket.readable.pipeTo(socket.writable).finally(() => socket.close());
    }
  })();

  const client = await TcpStream.connect(listener.localAddr);
  const writer = client.writable.getWriter();
  await writer.write(new TextEncoder().encode('web streams over TCP'));
  await writer.close(); // half-close: the server's readable ends
  const text = await new Response(client.readable).text();
  assert.equal(text, 'web streams over TCP');

  listener.close();
  await serving;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
