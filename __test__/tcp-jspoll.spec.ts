/**
 * JS-loop reads (unix): a read that must wait for data is served by the JS thread's own event
 * loop (a libuv poll watcher on the socket) instead of the runtime. The same behaviour must
 * hold with and without it: FIFO order of pending reads, abort, close, end of stream, reset,
 * and a worker_thread terminated with such reads pending. The last test runs this whole file
 * again with CORIO_JS_POLL=0 (today's runtime path).
 */

import test from 'ava';
import * as net from 'node:net';
import * as path from 'node:path';
import { copy, runtime, TcpListener, TcpStream } from '../src';
import { codeOf, pair, readAll } from './fixtures/tcp-util';
import { rerunSpec, runFixture } from './fixtures/run-fixture';

const jsPoll = process.platform !== 'win32' && process.env.CORIO_JS_POLL !== '0' && process.env.CORIO_SYNC_BUDGET !== '0';

/** One macrotask turn: what was just called has started natively (not a timing wait). */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('pending reads are served in call order, fed byte by byte', async (t) => {
  const { client, server, listener } = await pair();
  const bufs = [0, 1, 2, 3, 4].map(() => new Uint8Array(4));
  const reads = bufs.map((b) => server.read(b));
  await turn();
  for (let i = 0; i < reads.length; i++) {
    await client.writeAll(String.fromCharCode(97 + i));
    t.is(await reads[i], 1);
    t.is(bufs[i][0], 97 + i);
  }
  client.close();
  server.close();
  listener.close();
});

test('pending 1-byte reads split one message in call order', async (t) => {
  const { client, server, listener } = await pair();
  const bufs = [0, 1, 2, 3].map(() => new Uint8Array(1));
  const reads = bufs.map((b) => server.read(b));
  await turn();
  await client.writeAll('wxyz');
  t.deepEqual(await Promise.all(reads), [1, 1, 1, 1]);
  t.is(Buffer.concat(bufs).toString(), 'wxyz');
  client.close();
  server.close();
  listener.close();
});

test('a copy started behind pending reads runs before reads issued after it (no starvation)', async (t) => {
  const { client, server, listener } = await pair();
  const sink = await pair();
  const early = [server.read(new Uint8Array(1)), server.read(new Uint8Array(1))];
  await turn();
  const copying = copy(server, sink.client);
  await turn();
  // Issued after the copy: it must wait for the copy (which reads to end of stream), not join
  // the pending reads ahead of it — else JS keeping reads queued would starve the copy.
  const late = server.read(new Uint8Array(8));
  await turn();
  await client.writeAll('ab');
  t.deepEqual(await Promise.all(early), [1, 1]);
  await client.writeAll('cdef');
  await client.shutdown();
  t.is(await copying, 4);
  t.is((await readAll(sink.server)).toString(), 'cdef');
  t.is(await late, null);
  for (const s of [client, server, sink.client, sink.server]) s.close();
  listener.close();
  sink.listener.close();
});

test('a copy waiting for one lock already holds its place on the other: a later write waits behind it', async (t) => {
  // Which of the copy's two locks is taken first depends on heap addresses; several
  // independent rounds make sure the busy lock comes first in some of them.
  for (let round = 0; round < 6; round++) {
    const src = await pair();
    const dst = await pair();
    const pending = src.server.read(new Uint8Array(1)); // holds the source's read lock
    await turn();
    const copying = copy(src.server, dst.client);
    const late = dst.client.writeAll('late').then(
      () => 'written',
      (e: unknown) => codeOf(e),
    );
    await turn();
    await src.client.writeAll('p');
    t.is(await pending, 1);
    await src.client.writeAll('copied');
    await src.client.shutdown();
    t.is(await copying, 6);
    // The copy shut the destination down for writing when it finished; the later write
    // waited behind it and then failed, instead of going out first.
    t.is((await readAll(dst.server)).toString(), 'copied', `round ${round}`);
    t.not(await late, 'written');
    for (const s of [src.client, src.server, dst.client, dst.server]) s.close();
    src.listener.close();
    dst.listener.close();
  }
});

test('aborting a pending read: the next read still gets the bytes', async (t) => {
  const { client, server, listener } = await pair();
  const ac = new AbortController();
  const first = server.read(new Uint8Array(8), { signal: ac.signal });
  const buf = new Uint8Array(8);
  const second = server.read(buf);
  await turn();
  ac.abort();
  const err = await t.throwsAsync(first);
  t.is((err as Error).name, 'AbortError');
  await client.writeAll('hi');
  t.is(await second, 2);
  t.is(Buffer.from(buf.subarray(0, 2)).toString(), 'hi');
  // And a fresh pending read after the abort works too.
  const third = server.read(buf);
  await turn();
  await client.writeAll('!');
  t.is(await third, 1);
  client.close();
  server.close();
  listener.close();
});

test('close with reads pending rejects them with ERR_SOCKET_CLOSED and closes the socket', async (t) => {
  const { client, server, listener } = await pair();
  const reads = [server.read(new Uint8Array(8)), server.read(new Uint8Array(8))];
  await turn();
  server.close();
  for (const r of reads) {
    const err = await t.throwsAsync(r);
    t.is(codeOf(err), 'ERR_SOCKET_CLOSED');
  }
  // The socket really closed: the peer reads end of stream.
  t.is(await client.read(new Uint8Array(8)), null);
  client.close();
  listener.close();
});

test('end of stream resolves pending reads with null (or 0 from the native API)', async (t) => {
  const { client, server, listener } = await pair();
  const a = server.read(new Uint8Array(8));
  const b = server.read(new Uint8Array(8));
  await turn();
  await client.writeAll('z');
  await client.shutdown();
  t.is(await a, 1);
  t.is(await b, null);
  t.is(await server.read(new Uint8Array(8)), null);
  client.close();
  server.close();
  listener.close();
});

test('a peer reset rejects a pending read with ECONNRESET', async (t) => {
  const listener = await TcpListener.bind({ port: 0 });
  const peerP = new Promise<net.Socket>((resolve) => {
    const s = net.connect(listener.localAddr.port, '127.0.0.1', () => resolve(s));
  });
  const [server, peer] = await Promise.all([listener.accept(), peerP]);
  const first = server.read(new Uint8Array(8));
  peer.write('x');
  t.is(await first, 1);
  const pending = server.read(new Uint8Array(8));
  await turn();
  peer.resetAndDestroy();
  const err = await t.throwsAsync(pending);
  t.is(codeOf(err), 'ECONNRESET', String(err));
  t.is((err as { syscall?: string }).syscall, 'read');
  server.close();
  listener.close();
});

test('data then a reset: the data is read, the next read (awaited or already queued) rejects with ECONNRESET', async (t) => {
  // libuv stops a poll handle by itself when it reports an error (POLLERR); a read queued
  // after that must still be served (found by review: it used to hang).
  for (const queued of [false, true]) {
    const listener = await TcpListener.bind({ port: 0 });
    const peerP = new Promise<net.Socket>((resolve) => {
      const s = net.connect(listener.localAddr.port, '127.0.0.1', () => resolve(s));
    });
    const [server, peer] = await Promise.all([listener.accept(), peerP]);
    const first = server.read(new Uint8Array(64));
    const second = queued ? server.read(new Uint8Array(64)) : null;
    await turn();
    peer.write('hello');
    peer.resetAndDestroy();
    // Linux hands out the bytes before the reset; elsewhere the reset may come first. Either
    // way every read settles.
    const got = await first.catch((e: unknown) => codeOf(e));
    if (got === 5) {
      const err = await t.throwsAsync(second ?? server.read(new Uint8Array(64)));
      t.is(codeOf(err), 'ECONNRESET', String(err));
    } else {
      t.is(got, 'ECONNRESET');
      if (second) await second.catch(() => {});
    }
    server.close();
    listener.close();
  }
});

test('a detached buffer fails its read like on the runtime path; the stream goes on', async (t) => {
  const { client, server, listener } = await pair();
  const ab = new ArrayBuffer(8);
  const doomed = server.read(new Uint8Array(ab));
  await turn();
  structuredClone(ab, { transfer: [ab] }); // detaches `ab`
  await client.writeAll('ab');
  const err = await t.throwsAsync(doomed);
  t.truthy(err);
  const buf = new Uint8Array(8);
  const next = server.read(buf);
  await client.writeAll('cd');
  t.true((await next)! >= 1);
  client.close();
  server.close();
  listener.close();
});

test.serial('a waiting read is served without a completion-queue wake-up', async (t) => {
  if (!jsPoll) {
    t.pass('JS-loop reads are off here');
    return;
  }
  const { client, server, listener } = await pair();
  const buf = new Uint8Array(8);
  // Warm-up: the first wait creates the watcher.
  const w = server.read(buf);
  await turn();
  await client.writeAll('1');
  await w;
  const before = runtime.metrics().wakeups;
  for (let i = 0; i < 20; i++) {
    const r = server.read(buf);
    await turn();
    await client.writeAll('x');
    t.is(await r, 1);
  }
  t.is(runtime.metrics().wakeups, before);
  client.close();
  server.close();
  listener.close();
});

test('a worker_thread terminated with JS-loop reads pending: no crash', async (t) => {
  const r = await runFixture(path.join(__dirname, 'fixtures', 'jspoll-worker.ts'), [], { hangGuardMs: 60_000 });
  t.false(r.hung, r.stderr);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.trim(), 'ok');
});

// Serial: serial tests run before the concurrent ones, so this rerun (spawnSync, which blocks
// this process's event loop) does not hold up other tests' timers.
test.serial('this file passes with CORIO_JS_POLL=0 too (the runtime path)', async (t) => {
  if (!jsPoll) {
    t.pass('already the runtime path');
    return;
  }
  const r = rerunSpec('__test__/tcp-jspoll.spec.ts', { CORIO_JS_POLL: '0' });
  t.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
});

// Serial: serial tests run before the concurrent ones, so this rerun (spawnSync, which blocks
// this process's event loop) does not hold up other tests' timers.
test.serial('this file passes with CORIO_SYNC_BUDGET=0 too (every op on the runtime, call order kept)', async (t) => {
  if (process.env.CORIO_SYNC_BUDGET === '0' || process.env.CORIO_JS_POLL === '0') {
    t.pass('already a runtime-path run');
    return;
  }
  const r = rerunSpec('__test__/tcp-jspoll.spec.ts', { CORIO_SYNC_BUDGET: '0' });
  t.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
});
