/**
 * Faults: `runtime.shutdown()` reaches every environment, and never crashes the process however
 * many operations are queued. Each case runs in a child process (fixtures/faults-shutdown-envs.ts)
 * that must print its report and exit by itself with code 0 — a hang is caught by a guard timer
 * that kills the child, a crash by its exit signal.
 *
 * Regressions: dropping thousands of queued reads after a shutdown recursed through their
 * wakers until the stack overflowed (SIGSEGV); and an environment with nothing pending never
 * learned of the shutdown, so its open listener kept the process alive for ever.
 */

import test from 'ava';
import * as path from 'node:path';
import { type FixtureExit, runFixture } from './fixtures/run-fixture';

const FIXTURE = path.join(__dirname, 'fixtures', 'faults-shutdown-envs.ts');
const HANG_GUARD_MS = 90_000;

function run(...args: string[]): Promise<FixtureExit> {
  return runFixture(FIXTURE, args, { hangGuardMs: HANG_GUARD_MS });
}

function exitedCleanly(t: { false(v: boolean, m?: string): void; is(a: unknown, b: unknown, m?: string): void }, r: FixtureExit): void {
  t.false(r.hung, `the child did not exit by itself; stdout: ${r.stdout}; stderr: ${r.stderr}`);
  t.is(r.signal, null, `the child died by a signal; stderr: ${r.stderr}`);
  t.is(r.code, 0, r.stderr);
}

test('10,000 reads queued on one stream all settle with ERR_RUNTIME_SHUTDOWN, without crashing', async (t) => {
  const r = await run('queued', '10000');
  exitedCleanly(t, r);
  t.deepEqual(JSON.parse(r.stdout.trim()), { codes: { ERR_RUNTIME_SHUTDOWN: 10000 } });
});

test("the main thread's shutdown releases a worker_thread that holds only a listener", async (t) => {
  const r = await run('worker-holds');
  exitedCleanly(t, r);
  t.deepEqual(JSON.parse(r.stdout.trim()), { worker: { connect: 'ERR_RUNTIME_SHUTDOWN', refs: 0 } });
});

test("a worker_thread's shutdown releases the main thread's listener", async (t) => {
  const r = await run('main-holds');
  exitedCleanly(t, r);
  t.deepEqual(JSON.parse(r.stdout.trim()), { connect: 'ERR_RUNTIME_SHUTDOWN', refs: 0 });
});
