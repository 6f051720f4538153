/**
 * A UDP echo server: every datagram goes back to its sender. Datagrams are received and sent
 * in batches (recvmmsg/sendmmsg on Linux), many per system call.
 *
 *   PORT=9999 npx tsx examples/udp-echo.ts     (listens on 127.0.0.1; default port 9999)
 *   echo hi | nc -u -w1 127.0.0.1 9999
 *
 * In an application, import from 'corio' instead of '../src'.
 */

import { UdpSocket } from '../src';

const port = Number(process.env.PORT ?? 9999);

async function main(): Promise<void> {
  const sock = await UdpSocket.bind({ host: '127.0.0.1', port });
  const { address, port: bound } = sock.localAddr;
  console.log(`udp echo server listening on ${address}:${bound}`);
  process.once('SIGINT', () => sock.close());
  for (;;) {
    let batch;
    try {
      batch = await sock.recvMany(64);
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_SOCKET_CLOSED') break; // closed: shut down
      throw err;
    }
    try {
      await sock.sendMany(batch); // each Datagram carries its sender's address and port
    } catch (err) {
      console.error('send error:', (err as Error).message);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
