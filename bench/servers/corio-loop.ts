/**
 * Echo benchmark server: corio's TypeScript loop, the shape of examples/echo.ts (accept loop;
 * per connection `read` into one buffer and `writeAll` it back), with a 64 KiB buffer (the
 * size node:net reads with, so bulk transfers are compared like for like) and Nagle off.
 * Prints `listening <port>` once bound to 127.0.0.1.
 *
 * @module
 */
import { TcpListener, TcpStream } from '../../src';

async function serve(socket: TcpStream): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    socket.setNoDelay(true);
    for (;;) {
      const n = await socket.read(buf);
      if (n === null) break;
      await socket.writeAll(buf.subarray(0, n));
    }
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
