/**
 * Faults: `process.exit()` and SIGTERM (without a handler, with a handler that exits, with a
 * handler that closes everything) while operations of every kind are in flight — accept, read,
 * a write blocked on backpressure, a native copy moving data, a UDP receive
 * (fixtures/faults-exit.ts). The exit is clean: the expected exit code or SIGTERM, never a
 * crash signal, never a hang (a guard kills a child that does not exit). Several rounds each,
 * since the races are with the runtime's threads.
 */

import test from 'ava';
import * as path from 'node:path';
import { type FixtureExit, runFixture } from './fixtures/run-fixture';

const FIXTURE = path.join(__dirname, 'fixtures', 'faults-exit.ts');
const HANG_GUARD_MS = 30_000;
const ROUNDS = 4;

/** Runs the fixture in `mode`; once it prints `ready`, sends `signal` (if any). */
function run(mode: string, signal?: NodeJS.Signals): Promise<FixtureExit> {
  let sent = false;
  return runFixture(FIXTURE, [mode], {
    hangGuardMs: HANG_GUARD_MS,
    onStdout: (out, child) => {
      if (!sent && signal !== undefined && out.includes('ready\n')) {
        sent = true;
        child.kill(signal);
      }
    },
  });
}

const cases: { mode: string; signal?: NodeJS.Signals; code: number | null; exitSignal: NodeJS.Signals | null; out: string }[] = [
  { mode: 'exit', code: 0, exitSignal: null, out: 'ready\n' },
  { mode: 'sigterm', signal: 'SIGTERM', code: null, exitSignal: 'SIGTERM', out: 'ready\n' },
  { mode: 'sigterm-exit', signal: 'SIGTERM', code: 7, exitSignal: null, out: 'ready\n' },
  { mode: 'sigterm-close', signal: 'SIGTERM', code: 0, exitSignal: null, out: 'ready\nclosed\n' },
];

for (const c of cases) {
  // Windows has no catchable SIGTERM: kill() there terminates the process outright.
  const run_ = c.signal !== undefined && process.platform === 'win32' ? test.skip : test;
  run_(`${c.mode}: a clean exit with operations in flight (${ROUNDS} rounds)`, async (t) => {
    for (let i = 0; i < ROUNDS; i++) {
      const r = await run(c.mode, c.signal);
      t.false(r.hung, `round ${i}: the child hung; stdout: ${r.stdout}; stderr: ${r.stderr}`);
      t.is(r.signal, c.exitSignal, `round ${i}: ${r.stderr}`);
      t.is(r.code, c.code, `round ${i}: ${r.stderr}`);
      t.is(r.stdout, c.out, `round ${i}`);
      t.is(r.stderr, '', `round ${i}`);
    }
  });
}
