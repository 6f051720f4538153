/**
 * README "A client: for await, cancellation": connect with a timeout, send, half-close, and read
 * the reply with `for await`; then cancel a read that would wait forever.
 *
 * Self-contained: it starts its own echo server on a free loopback port, checks what it got,
 * and exits 0.   npx tsx examples/readme/client.ts
 */

import assert from 'node:assert/strict';
import { copy, TcpListener, TcpStream } from '../../src';

async function request(addr: string): Promise<string> {
  const stream = await TcpStream.connect(addr, { signal: AbortSignal.timeout(5_000) });
  await stream.writeAll('hello, corio\n');
  await stream.shutdown(); // half-close: the server reads end of stream, we keep reading
  let reply = '';
  for await (const chunk of stream) reply += Buffer.from(chunk).toString();
  stream.close();
  return reply;
}

async function readOrGiveUp(stream: TcpStream, ac: AbortController): Promise<number | null | 'aborted'> {
  const buf = new Uint8Array(1024);
  try {
    return await stream.read(buf, { signal: ac.signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') return 'aborted'; // err.code === 'ABORT_ERR'
    throw err;
  }
}

async function main(): Promise<void> {
  const listener = await TcpListener.bind({ port: 0 });
  const addr = `127.0.0.1:${listener.localAddr.port}`;
  const server = (async () => {
    for await (const socket of listener) void copy(socket, socket).finally(() => socket.close());
  })();

  assert.equal(await request(addr), 'hello, corio\n');

  // A read nobody will answer (the echo server only echoes), cancelled by its signal: the
  // promise rejects with AbortError and the read is cancelled in native code too.
  const idle = await TcpStream.connect(addr);
  const ac = new AbortController();
  const pending = readOrGiveUp(idle, ac);
  ac.abort();
  assert.equal(await pending, 'aborted');
  idle.close();

  listener.close(); // ends the for-await loop above
  await server;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
