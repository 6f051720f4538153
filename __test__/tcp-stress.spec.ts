/**
 * Load and leak tests: 1,000 concurrent connections echoing through the TypeScript API with
 * every byte checked, and no file descriptor leak over 1,000 connect/close cycles.
 */

import test from 'ava';
import * as fs from 'node:fs';
import { TcpStream } from '../src';
import { listen, pattern, readAll } from './fixtures/tcp-util';

/** The seeds' echo loop: read into a 1 KiB buffer, write it all back, until end of stream. */
async function echo(socket: TcpStream): Promise<void> {
  const buf = new Uint8Array(1024);
  try {
    for (;;) {
      const n = await socket.read(buf);
      if (n === null) break;
      await socket.writeAll(buf.subarray(0, n));
    }
    await socket.shutdown();
  } finally {
    socket.close();
  }
}

test('1,000 concurrent connections echo through the TS API, every byte checked', async (t) => {
  const CONNECTIONS = 1000;
  const listener = await listen();
  const handlers: Promise<void>[] = [];
  const serving = (async () => {
    for await (const socket of listener) handlers.push(echo(socket));
  })();
  const results = await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, i) => {
      const data = pattern(2048 + (i % 7) * 1000, i);
      const client = await TcpStream.connect(listener.localAddr);
      try {
        const [echoed] = await Promise.all([readAll(client), client.writeAll(data).then(() => client.shutdown())]);
        return echoed.equals(data);
      } finally {
        client.close();
      }
    }),
  );
  t.is(results.filter(Boolean).length, CONNECTIONS);
  listener.close();
  await serving;
  await Promise.all(handlers);
  t.is(handlers.length, CONNECTIONS);
});

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

test('no file descriptor leak after 1,000 connect/close cycles', async (t) => {
  if (process.platform !== 'linux') {
    t.pass('counts /proc/self/fd: Linux only');
    return;
  }
  const listener = await listen();
  const cycle = async (): Promise<void> => {
    const [client, server] = await Promise.all([TcpStream.connect(listener.localAddr), listener.accept()]);
    await client.writeAll('x');
    const buf = new Uint8Array(1);
    await server.read(buf);
    client.close();
    server.close();
  };
  // Warm up: the runtime's threads, its event queue and Node's own handles exist from here on.
  for (let i = 0; i < 20; i++) await cycle();
  const before = openFds();
  const BATCH = 50;
  for (let done = 0; done < 1000; done += BATCH) {
    await Promise.all(Array.from({ length: BATCH }, cycle));
  }
  const after = openFds();
  t.true(after - before <= 5, `fds before ${before}, after ${after}`);
  listener.close();
});
