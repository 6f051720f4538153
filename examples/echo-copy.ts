/**
 * The seeds' echo server, second form: each connection is echoed by native `copy(socket,
 * socket)`; the bytes never enter JavaScript, and the JS thread is woken once per connection.
 *
 *   PORT=8080 npx tsx examples/echo-copy.ts      (default 127.0.0.1:8080)
 *
 * In an application, import from 'corio' instead of '../src'.
 */

import { copy, TcpListener, TcpStream } from '../src';

const port = Number(process.env.PORT ?? 8080);

/** Echoes one connection natively; errors are logged, never thrown. */
async function serve(socket: TcpStream): Promise<void> {
  try {
    await copy(socket, socket);
  } catch (err) {
    console.error('connection error:', (err as Error).message);
  } finally {
    socket.close();
  }
}

async function main(): Promise<void> {
  const listener = await TcpListener.bind({ host: '127.0.0.1', port });
  const { address, port: bound } = listener.localAddr;
  console.log(`echo (native copy) server listening on ${address}:${bound}`);
  process.once('SIGINT', () => listener.close());
  for (;;) {
    let socket: TcpStream;
    try {
      socket = await listener.accept();
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_SOCKET_CLOSED') break;
      console.error('accept error:', (err as Error).message);
      continue;
    }
    void serve(socket);
  }
  console.log('echo server closed');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
