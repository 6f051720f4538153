/**
 * A TCP port forwarder: every connection to LISTEN is forwarded to TARGET, with both
 * directions copied in native code by `copyBidirectional`.
 *
 *   LISTEN=127.0.0.1:9000 TARGET=127.0.0.1:8080 npx tsx examples/proxy.ts
 *
 * Defaults: LISTEN 127.0.0.1:9000, TARGET 127.0.0.1:8080. In an application, import from
 * 'corio' instead of '../src'.
 */

import { copyBidirectional, TcpListener, TcpStream } from '../src';

const listen = process.env.LISTEN ?? '127.0.0.1:9000';
const target = process.env.TARGET ?? '127.0.0.1:8080';

/** Forwards one client to the target; errors are logged, never thrown. */
async function forward(inbound: TcpStream): Promise<void> {
  let outbound: TcpStream | undefined;
  try {
    outbound = await TcpStream.connect(target, { noDelay: true });
    inbound.setNoDelay(true);
    const [up, down] = await copyBidirectional(inbound, outbound);
    console.log(`${inbound.peerAddr.address}:${inbound.peerAddr.port} done: ${up} B up, ${down} B down`);
  } catch (err) {
    console.error('forwarding error:', (err as Error).message);
  } finally {
    inbound.close();
    outbound?.close();
  }
}

async function main(): Promise<void> {
  const listener = await TcpListener.bind(listen);
  const { address, port } = listener.localAddr;
  console.log(`forwarding ${address}:${port} -> ${target}`);
  process.once('SIGINT', () => listener.close());
  for (;;) {
    let inbound: TcpStream;
    try {
      inbound = await listener.accept();
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_SOCKET_CLOSED') break;
      console.error('accept error:', (err as Error).message);
      continue;
    }
    void forward(inbound);
  }
  console.log('proxy closed');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
