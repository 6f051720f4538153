/**
 * Echo benchmark server: corio's native `copy(socket, socket)` (examples/echo-copy.ts): the
 * bytes never enter JavaScript; the JS thread only accepts. Nagle off.
 * Prints `listening <port>` once bound to 127.0.0.1.
 *
 * @module
 */
import { copy, TcpListener, TcpStream } from '../../src';

async function serve(socket: TcpStream): Promise<void> {
  try {
    socket.setNoDelay(true);
    await copy(socket, socket);
  } catch {
    // a client reset is not a server failure
  } finally {
    socket.close();
  }
}

async function main(): Promise<void> {
  const listener = await TcpListener.bind({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
  console.log(`listening ${listener.localAddr.port}`);
  for (;;) void serve(await listener.accept());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
