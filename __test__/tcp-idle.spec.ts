/**
 * Idle timeouts (`TcpStream#setIdleTimeout`, `TcpListener.bind(..., { idleTimeout })`): an idle
 * stream is shut down and its pending and later operations reject with ETIMEDOUT while the
 * peer reads end of stream; traffic in either direction keeps a stream open; 0 disables the
 * timeout; bad arguments throw; the timer neither keeps the process alive nor outlives the
 * stream. No timing assertions: every test is about the order of events, with timeouts
 * generous relative to the activity that must keep a stream alive.
 */

import test from 'ava';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { runtime, TcpListener, TcpStream } from '../src';
import { codeOf, pair } from './fixtures/tcp-util';

/** Resolves the `code` a promise rejects with (or `'resolved'`). */
const outcome = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => 'resolved',
    (err: unknown) => codeOf(err),
  );

/** Resolves after `ms` (pacing the traffic of a test, never synchronising it). */
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads once from the peer of a timed-out stream: end of stream, or a reset. */
async function peerEnd(peer: TcpStream): Promise<unknown> {
  try {
    return await peer.read(new Uint8Array(16));
  } catch (err) {
    return codeOf(err);
  }
}

test.serial('the idle timer task ends when the stream is closed', async (t) => {
  const { client, server, listener } = await pair();
  const before = runtime.metrics().aliveTasks;
  client.setIdleTimeout(3_600_000);
  server.setIdleTimeout(3_600_000);
  t.true(runtime.metrics().aliveTasks >= before + 2, 'one timer task per stream');
  client.close();
  server.close();
  listener.close();
  // The tasks end as soon as the runtime runs them after the close; poll until they have.
  while (runtime.metrics().aliveTasks > before) await new Promise((resolve) => setImmediate(resolve));
  t.pass();
});

test('an idle stream: its pending reads reject with ETIMEDOUT, the peer reads end of stream', async (t) => {
  const { client, server, listener } = await pair();
  listener.close();
  client.setIdleTimeout(200);
  const first = outcome(client.read(new Uint8Array(16)));
  const second = outcome(client.read(new Uint8Array(16))); // queued behind the first
  t.is(await first, 'ETIMEDOUT');
  t.is(await second, 'ETIMEDOUT');
  const end = await peerEnd(server);
  t.true(end === null || end === 'ECONNRESET', `peer saw ${String(end)}`);
  // Later operations reject with ETIMEDOUT until close(), then ERR_SOCKET_CLOSED.
  t.is(await outcome(client.read(new Uint8Array(16))), 'ETIMEDOUT');
  t.is(await outcome(client.write('x')), 'ETIMEDOUT');
  t.is(await outcome(client.writeAll('xyz')), 'ETIMEDOUT');
  t.is(await outcome(client.shutdown()), 'ETIMEDOUT');
  const err = await client.read(new Uint8Array(1)).catch((e: unknown) => e as Error & { syscall?: string });
  t.is((err as { syscall?: string }).syscall, 'read');
  t.false(client.closed);
  client.close();
  t.is(await outcome(client.read(new Uint8Array(16))), 'ERR_SOCKET_CLOSED');
  server.close();
});

test('a write stuck on a full socket buffer rejects with ETIMEDOUT', async (t) => {
  const { client, server, listener } = await pair();
  listener.close();
  client.setIdleTimeout(200);
  // The peer never reads: once both kernel buffers are full no byte moves, and the timer fires.
  const write = outcome(client.writeAll(new Uint8Array(64 << 20)));
  t.is(await write, 'ETIMEDOUT');
  client.close();
  server.close();
});

test('a stream with traffic every 50 ms stays open for 3 s under a 1 s timeout, then times out', async (t) => {
  const { client, server, listener } = await pair();
  listener.close();
  server.setIdleTimeout(1_000);
  const buf = new Uint8Array(16);
  // Even rounds: the peer sends and the stream reads; odd rounds: the stream sends. Both
  // directions count as activity. 60 rounds last 3 s or more: without the resets the timeout
  // would fire during them; each gap is a twentieth of the timeout.
  for (let round = 0; round < 60; round++) {
    await pause(50);
    if (round % 2 === 0) {
      const read = server.read(buf);
      await client.writeAll(Uint8Array.of(round));
      t.is(await read, 1);
      t.is(buf[0], round);
    } else {
      await server.writeAll(Uint8Array.of(round));
      t.is(await client.read(buf), 1);
      t.is(buf[0], round);
    }
  }
  // Traffic stops: now the timeout fires.
  t.is(await outcome(server.read(buf)), 'ETIMEDOUT');
  const end = await peerEnd(client);
  t.true(end === null || end === 'ECONNRESET', `peer saw ${String(end)}`);
  client.close();
  server.close();
});

test('writes alone count as activity: a stream that only sends stays open', async (t) => {
  const { client, server, listener } = await pair();
  listener.close();
  server.setIdleTimeout(1_000);
  const buf = new Uint8Array(16);
  // The stream never reads; it sends one byte every 50 ms for 3 s or more (3 timeouts).
  for (let round = 0; round < 60; round++) {
    await pause(50);
    await server.writeAll(Uint8Array.of(round));
    t.is(await client.read(buf), 1);
    t.is(buf[0], round);
  }
  t.is(await outcome(server.write('x').then(() => server.read(buf))), 'ETIMEDOUT');
  client.close();
  server.close();
});

test('the listener option applies the timeout to every accepted stream', async (t) => {
  const listener = await TcpListener.bind({ port: 0 }, { idleTimeout: 200 });
  t.is(listener.idleTimeout, 200);
  const clients = await Promise.all([TcpStream.connect(listener.localAddr), TcpStream.connect(listener.localAddr)]);
  const accepted = [await listener.accept(), await listener.accept()];
  listener.close();
  for (const s of accepted) t.is(await outcome(s.read(new Uint8Array(8))), 'ETIMEDOUT');
  for (const c of clients) {
    const end = await peerEnd(c);
    t.true(end === null || end === 'ECONNRESET', `peer saw ${String(end)}`);
    c.close();
  }
  for (const s of accepted) s.close();
});

test('0 disables the timeout (and a new call replaces the old one)', async (t) => {
  const a = await pair(); // client: timeout set, then disabled
  const b = await pair(); // server: a long timeout replaced by a short one
  const c = await pair(); // server: the control, 400 ms
  const plain = await TcpListener.bind({ port: 0 }, { idleTimeout: 0 });
  t.is(plain.idleTimeout, 0);
  const viaListener = await TcpStream.connect(plain.localAddr);
  const acceptedNoTimeout = await plain.accept();
  for (const l of [a.listener, b.listener, c.listener, plain]) l.close();
  a.client.setIdleTimeout(100);
  a.client.setIdleTimeout(0);
  b.server.setIdleTimeout(100_000);
  b.server.setIdleTimeout(100);
  c.server.setIdleTimeout(400);
  let settled = 0;
  const note = (): void => void settled++;
  const disabledRead = a.client.read(new Uint8Array(8));
  const acceptedRead = acceptedNoTimeout.read(new Uint8Array(8));
  disabledRead.then(note, note);
  acceptedRead.then(note, note);
  t.is(await outcome(b.server.read(new Uint8Array(8))), 'ETIMEDOUT'); // the 100 ms replacement
  // The control times out after 400 ms or more: by then a 100 ms timeout would have fired.
  t.is(await outcome(c.server.read(new Uint8Array(8))), 'ETIMEDOUT');
  t.is(settled, 0, 'no read on a stream without a timeout settled');
  // The streams without a timeout still work.
  await a.server.writeAll('a');
  await viaListener.writeAll('b');
  t.is(await disabledRead, 1);
  t.is(await acceptedRead, 1);
  for (const s of [a.client, a.server, b.client, b.server, c.client, c.server, viaListener, acceptedNoTimeout]) {
    s.close();
  }
});

test('argument validation', async (t) => {
  const { client, server, listener } = await pair();
  const bad: Array<[unknown, string, string]> = [
    ['1', 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    [undefined, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    [null, 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    [-1, 'RangeError', 'ERR_OUT_OF_RANGE'],
    [1.5, 'RangeError', 'ERR_OUT_OF_RANGE'],
    [Number.NaN, 'RangeError', 'ERR_OUT_OF_RANGE'],
    [2 ** 31, 'RangeError', 'ERR_OUT_OF_RANGE'],
    [Infinity, 'RangeError', 'ERR_OUT_OF_RANGE'],
  ];
  for (const [value, name, code] of bad) {
    const err = t.throws(() => client.setIdleTimeout(value as number));
    t.is(err?.name, name, String(value));
    t.is(codeOf(err), code, String(value));
    t.regex(err?.message ?? '', /"ms"|'ms'/);
    if (value === undefined) continue; // an absent option is the default
    const bindErr = t.throws(() => TcpListener.bind({ port: 0 }, { idleTimeout: value as number }));
    t.is(bindErr?.name, name, String(value));
    t.is(codeOf(bindErr), code, String(value));
    t.regex(bindErr?.message ?? '', /opts\.idleTimeout/);
  }
  t.is(client.setIdleTimeout(2 ** 31 - 1), client, 'returns the stream');
  client.setIdleTimeout(0);
  client.close();
  t.is(codeOf(t.throws(() => client.setIdleTimeout(10))), 'ERR_SOCKET_CLOSED');
  server.close();
  listener.close();
});

test('idle timeouts keep no process alive: a child that uses them and closes everything exits', async (t) => {
  const src = JSON.stringify(path.join(__dirname, '..', 'src'));
  const code = `
    const { TcpListener, TcpStream } = require(${src});
    (async () => {
      const l = await TcpListener.bind({ port: 0 }, { idleTimeout: 3600000 });
      const c = await TcpStream.connect(l.localAddr);
      const s = await l.accept();
      c.setIdleTimeout(3600000);
      c.setIdleTimeout(1800000);
      const read = s.read(new Uint8Array(8));
      await c.writeAll('x');
      await read;
      const idle = await TcpStream.connect(l.localAddr);
      idle.setIdleTimeout(3600000);
      const pending = idle.read(new Uint8Array(8)).catch((e) => e.code);
      idle.unref();
      c.close(); s.close(); l.close();
      console.log('done');
      void pending;
    })().catch((e) => { console.error(e); process.exit(1); });
  `;
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not exit by itself; stdout: ${stdout}; stderr: ${stderr}`));
    }, 60_000);
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('exit', (exitCode) => {
      clearTimeout(guard);
      resolve({ code: exitCode, stdout, stderr });
    });
  });
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.trim(), 'done');
});
