/**
 * README "StreamMap and channels": merge the byte streams of several connections, keyed by
 * client, into one loop (tokio-stream's StreamMap), and hand the lines to a consumer through a
 * bounded mpsc channel (backpressure: `send` waits while 16 are queued).
 *
 * Self-contained: two clients connect, each sends a line and ends; the consumer collects both
 * lines; the example checks them and exits 0.   npx tsx examples/readme/stream-map.ts
 */

import assert from 'node:assert/strict';
import { channel, Sender, StreamMap, TcpListener, TcpStream } from '../../src';

async function fanIn(listener: TcpListener, clients: number, tx: Sender<string>): Promise<void> {
  const map = new StreamMap<string, Uint8Array>();
  for (let i = 0; i < clients; i++) {
    const socket = await listener.accept();
    const { address, port } = socket.peerAddr;
    map.insert(`${address}:${port}`, socket); // any AsyncIterable can be a member
  }
  for await (const [client, chunk] of map) {
    await tx.send(`${client} says ${Buffer.from(chunk).toString()}`);
  }
  tx.close(); // the receiver's for-await ends once the queue is drained
}

async function say(addr: string, text: string): Promise<void> {
  const s = await TcpStream.connect(addr);
  await s.writeAll(text);
  await s.shutdown();
  s.close();
}

async function main(): Promise<void> {
  const listener = await TcpListener.bind({ port: 0 });
  const addr = `127.0.0.1:${listener.localAddr.port}`;
  const [tx, rx] = channel<string>(16);
  const merging = fanIn(listener, 2, tx);
  await Promise.all([say(addr, 'hi'), say(addr, 'bye')]);

  const said = new Map<string, string>();
  for await (const line of rx) {
    const [client, text] = line.split(' says ');
    said.set(client, (said.get(client) ?? '') + text); // TCP may split a message into chunks
  }
  await merging;
  listener.close();

  assert.deepEqual([...said.values()].sort(), ['bye', 'hi']);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
