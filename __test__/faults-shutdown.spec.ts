/**
 * Faults: `runtime.shutdown()` with operations pending. In a child process
 * (fixtures/faults-shutdown.ts): a pending read, accept, native copy, blocked write and UDP
 * receive on the main thread and a read in a worker_thread all settle with
 * `ERR_RUNTIME_SHUTDOWN`; later operations fail with that code, `configure()` throws, a second
 * shutdown resolves, and the process exits by itself (with sockets still open). And a race:
 * shutdown while 4 worker_threads and the main thread run echo loops flat out — every loop
 * ends with `ERR_RUNTIME_SHUTDOWN`, whatever state its operations were in. And concurrent
 * shutdowns: two calls in a row on the main thread plus one from a worker_thread — each
 * caller's promise resolves only once the runtime's threads are gone (no `corio-worker` thread
 * left, on Linux) and that caller's pending operations have settled.
 */

import test from 'ava';
import * as path from 'node:path';
import { type FixtureExit, runFixture } from './fixtures/run-fixture';

const FIXTURE = path.join(__dirname, 'fixtures', 'faults-shutdown.ts');
const HANG_GUARD_MS = 60_000;

function run(...args: string[]): Promise<FixtureExit> {
  return runFixture(FIXTURE, args, { hangGuardMs: HANG_GUARD_MS });
}

const SHUTDOWN = 'ERR_RUNTIME_SHUTDOWN';

test('runtime.shutdown() settles every pending operation, refuses later ones, and lets the process exit', async (t) => {
  const r = await run();
  t.false(r.hung, `the child did not exit by itself; stdout: ${r.stdout}; stderr: ${r.stderr}`);
  t.is(r.signal, null, r.stderr);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as {
    first: number;
    before: number;
    after: number;
    settled: Record<string, string>;
    later: Record<string, string>;
    configure: string;
    second: string;
    threadsAfter: number | null;
    worker: { read: string } | null;
  };
  t.log(JSON.stringify(out));
  t.is(out.first, 1, 'the blocked write had started');
  t.true(out.before >= 5, `pending ops before: ${out.before}`);
  t.deepEqual(out.settled, { read: SHUTDOWN, accept: SHUTDOWN, copy: SHUTDOWN, write: SHUTDOWN, udpRecv: SHUTDOWN });
  t.is(out.after, 0, 'nothing left pending');
  for (const [op, code] of Object.entries(out.later)) t.is(code, SHUTDOWN, `later ${op}`);
  t.is(out.configure, SHUTDOWN);
  t.is(out.second, 'resolved');
  if (out.threadsAfter !== null) t.is(out.threadsAfter, 0, 'corio-worker threads left after shutdown');
  t.deepEqual(out.worker, { read: SHUTDOWN }, 'the worker_thread read settled too');
});

test('runtime.shutdown() racing busy echo loops in 4 worker_threads and the main thread: every loop ends with ERR_RUNTIME_SHUTDOWN', async (t) => {
  for (let round = 0; round < 3; round++) {
    const seed = Number(process.env.CORIO_FAULTS_SEED ?? Date.now() % 1_000_000) + round;
    const r = await run('race', String(seed));
    t.false(r.hung, `seed ${seed}: the child did not exit by itself; stdout: ${r.stdout}; stderr: ${r.stderr}`);
    t.is(r.signal, null, r.stderr);
    t.is(r.code, 0, `seed ${seed}: ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim()) as { seed: number; stopAt: number; codes: string[] };
    t.log(`seed ${seed}: shut down after ${out.stopAt} exchanges; ${out.codes.length} loops`);
    t.is(out.codes.length, 2 + 4 * 3);
    t.deepEqual(
      out.codes.filter((c) => c !== SHUTDOWN),
      [],
      `seed ${seed}: loops that ended otherwise`,
    );
  }
});

test('concurrent runtime.shutdown() calls (twice on the main thread, once from a worker_thread) all resolve only after the runtime stopped', async (t) => {
  const r = await run('twice');
  t.false(r.hung, `the child did not exit by itself; stdout: ${r.stdout}; stderr: ${r.stderr}`);
  t.is(r.signal, null, r.stderr);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as {
    before: number;
    threadsBefore: number | null;
    atSecond: { pendingOps: number; threads: number | null; workers: number };
    settled: Record<string, string>;
    threadsEventually: number | null;
    worker: { atResolve: { pendingOps: number }; read: string };
  };
  t.log(JSON.stringify(out));
  t.is(out.before, 3, 'the three main-thread ops were pending');
  // When the second call's promise resolved: this env's ops had all settled (natively; the
  // API's derived promises follow within the same microtask checkpoint)...
  t.is(out.atSecond.pendingOps, 0, 'ops of this env left unsettled when the second shutdown() resolved');
  t.deepEqual(out.settled, { read: SHUTDOWN, accept: SHUTDOWN, udpRecv: SHUTDOWN });
  t.is(out.atSecond.workers, 0, 'metrics().workers once shut down');
  // ... and the runtime's worker threads were gone (joined before the promise resolved).
  if (out.threadsBefore !== null) {
    t.true(out.threadsBefore >= 1, 'corio-worker threads are visible in /proc before the shutdown');
    t.is(out.atSecond.threads, 0, 'corio-worker threads left when the second shutdown() resolved');
    t.is(out.threadsEventually, 0);
  }
  // The worker_thread's own call, concurrent with the main thread's: same guarantee for its env.
  t.is(out.worker.atResolve.pendingOps, 0, 'ops of the worker_thread left unsettled when its shutdown() resolved');
  t.is(out.worker.read, SHUTDOWN);
});
