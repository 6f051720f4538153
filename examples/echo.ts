/**
 * The seeds' echo server with corio's TypeScript API: bind, accept in a loop, and for each
 * connection read into a 1 KiB buffer and write it all back until the client ends.
 *
 *   PORT=8080 npx tsx examples/echo.ts      (default 127.0.0.1:8080)
 *
 * In an application, import from 'corio' instead of '../src'.
 */

import { TcpListener, TcpStream } from '../src';

const port = Number(process.env.PORT ?? 8080);

/** Echoes one connection; its errors are logged, never thrown. */
async function serve(socket: TcpStream): Promise<void> {
  const buf = new Uint8Array(1024);
  try {
    for (;;) {
      const n = await socket.read(buf);
      if (n === null) break; // the client shut its side down
      await socket.writeAll(buf.subarray(0, n));
    }
  } catch (err) {
    console.error('connection error:', (err as Error).message);
  } finally {
    socket.close();
  }
}

async function main(): Promise<void> {
  const listener = await TcpListener.bind({ host: '127.0.0.1', port });
  const { address, port: bound } = listener.localAddr;
  console.log(`echo server listening on ${address}:${bound}`);
  process.once('SIGINT', () => listener.close());
  for (;;) {
    let socket: TcpStream;
    try {
      socket = await listener.accept();
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_SOCKET_CLOSED') break; // closed: shut down
      console.error('accept error:', (err as Error).message); // e.g. EMFILE: keep serving
      continue;
    }
    void serve(socket); // don't await: serve connections concurrently
  }
  console.log('echo server closed');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
