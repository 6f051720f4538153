/**
 * Cancellation by AbortSignal at each await point: bind, accept, connect, read, write,
 * writeAll, copy, copyBidirectional. An operation is aborted while it is really pending in
 * native code, rejects with AbortError (code ABORT_ERR, cause = the reason), and the socket is
 * still usable where that makes sense (nothing was consumed by the cancelled operation). A
 * signal that is already aborted rejects at once.
 */

import test from 'ava';
import { copy, copyBidirectional, runtime, TcpListener, TcpStream } from '../src';
import { codeOf, listen, pair, readExactly } from './fixtures/tcp-util';

function assertAbort(t: import('ava').ExecutionContext, err: unknown, reason?: unknown): void {
  t.is((err as Error).name, 'AbortError');
  t.is(codeOf(err), 'ABORT_ERR');
  if (reason !== undefined) t.is((err as Error).cause, reason);
}

/** Lets the native side start what was just called (one macrotask turn; not a timing wait). */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('already-aborted signals reject at once without starting the operation', async (t) => {
  const { client, server, listener } = await pair();
  const ac = new AbortController();
  const reason = new Error('early');
  ac.abort(reason);
  const signal = ac.signal;
  const ops: Array<() => Promise<unknown>> = [
    () => TcpListener.bind({ port: 0 }, { signal }),
    () => listener.accept({ signal }),
    () => TcpStream.connect(listener.localAddr, { signal }),
    () => server.read(new Uint8Array(8), { signal }),
    () => server.read(new Uint8Array(0), { signal }),
    () => client.write('x', { signal }),
    () => client.writeAll('x', { signal }),
    () => copy(server, client, { signal }),
    () => copyBidirectional(server, client, { signal }),
  ];
  for (const op of ops) assertAbort(t, await t.throwsAsync(op()), reason);
  // Nothing was written by the aborted writes: the next byte the server sees is this one.
  await client.writeAll('y');
  t.is((await readExactly(server, 1)).toString(), 'y');
  client.close();
  server.close();
  listener.close();
});

test('abort a pending accept; the listener keeps working', async (t) => {
  const listener = await listen();
  const ac = new AbortController();
  const pending = listener.accept({ signal: ac.signal });
  await turn();
  ac.abort();
  assertAbort(t, await t.throwsAsync(pending));
  const [client, server] = await Promise.all([TcpStream.connect(listener.localAddr), listener.accept()]);
  await client.writeAll('after');
  t.is((await readExactly(server, 5)).toString(), 'after');
  client.close();
  server.close();
  listener.close();
});

test('abort a pending connect (listen queue full, so the SYN is never answered)', async (t) => {
  if (process.platform !== 'linux') {
    t.pass('relies on Linux dropping SYNs when the accept queue is full');
    return;
  }
  // backlog 1: Linux queues two connections, then drops further SYNs; the third connect hangs.
  const listener = await TcpListener.bind({ port: 0 }, { backlog: 1 });
  const queued = [await TcpStream.connect(listener.localAddr), await TcpStream.connect(listener.localAddr)];
  const ac = new AbortController();
  const reason = new Error('give up');
  const pending = TcpStream.connect(listener.localAddr, { signal: ac.signal });
  await turn();
  ac.abort(reason);
  assertAbort(t, await t.throwsAsync(pending), reason);
  for (const q of queued) q.close();
  listener.close();
});

test('abort a pending read; data arriving later is not lost', async (t) => {
  const { client, server, listener } = await pair();
  const ac = new AbortController();
  const buf = new Uint8Array(8);
  const pending = server.read(buf, { signal: ac.signal });
  await turn();
  ac.abort();
  assertAbort(t, await t.throwsAsync(pending));
  await client.writeAll('later');
  t.is((await readExactly(server, 5)).toString(), 'later');
  t.deepEqual([...buf], [0, 0, 0, 0, 0, 0, 0, 0], 'the aborted read wrote nothing');
  client.close();
  server.close();
  listener.close();
});

test('abort a pending writeAll and write (the peer does not read)', async (t) => {
  const { client, server, listener } = await pair();
  // Far more than loopback socket buffers hold, so the write must wait for the reader.
  const big = Buffer.alloc(64 << 20);
  const ac = new AbortController();
  const pending = client.writeAll(big, { signal: ac.signal });
  await turn();
  ac.abort();
  assertAbort(t, await t.throwsAsync(pending));

  // A single write queued behind a writeAll that cannot finish waits too.
  const blocking = client.writeAll(big).catch((e: unknown) => e);
  const ac2 = new AbortController();
  const pendingWrite = client.write('x', { signal: ac2.signal });
  await turn();
  ac2.abort();
  assertAbort(t, await t.throwsAsync(pendingWrite));
  client.close();
  t.is(codeOf(await blocking), 'ERR_SOCKET_CLOSED');
  server.close();
  listener.close();
});

test('abort a pending copy; the streams stay usable', async (t) => {
  const { client, server, listener } = await pair();
  const ac = new AbortController();
  const pending = copy(server, server, { signal: ac.signal });
  await client.writeAll('echo');
  t.is((await readExactly(client, 4)).toString(), 'echo', 'the copy echoes while it runs');
  ac.abort();
  assertAbort(t, await t.throwsAsync(pending));
  await client.writeAll('direct');
  t.is((await readExactly(server, 6)).toString(), 'direct', 'reads work again after the copy');
  client.close();
  server.close();
  listener.close();
});

test('abort a pending copyBidirectional', async (t) => {
  const a = await pair();
  const b = await pair();
  const ac = new AbortController();
  const pending = copyBidirectional(a.server, b.client, { signal: ac.signal });
  await a.client.writeAll('through');
  t.is((await readExactly(b.server, 7)).toString(), 'through');
  ac.abort();
  assertAbort(t, await t.throwsAsync(pending));
  for (const p of [a, b]) {
    p.client.close();
    p.server.close();
    p.listener.close();
  }
});

test.serial('no operation is left pending natively after aborts', async (t) => {
  const { client, server, listener } = await pair();
  const before = runtime.metrics().pendingOps;
  const controllers = Array.from({ length: 20 }, () => new AbortController());
  const reads = controllers.map((ac) => server.read(new Uint8Array(4), { signal: ac.signal }).catch((e: unknown) => e));
  await turn();
  for (const ac of controllers) ac.abort();
  for (const r of await Promise.all(reads)) assertAbort(t, r);
  t.is(runtime.metrics().pendingOps, before);
  client.close();
  server.close();
  listener.close();
});
