/**
 * The soak's check of itself: `npx tsx bench/soak/self-test.ts`. A soak that always passes
 * proves nothing, so this runs short soaks with a fault injected into the loop server on
 * purpose (`--inject`, see protocol.ts) and requires each to FAIL with the finding that fault
 * must cause; a run without a fault must PASS. It is a program, not part of `npm test` (it
 * takes a few minutes of load); run it after changing the soak.
 *
 * Options: `--duration <s>` per run (default 30), `--connections <n>` (default 400).
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

/** One self-test case: the fault to inject and what the report must then say. */
interface Case {
  fault: string;
  /** A failure line that must appear (regular expression), or null: the run must pass. */
  expect: RegExp | null;
}

const cases: Case[] = [
  { fault: 'none', expect: null },
  { fault: 'corrupt', expect: /TS read\/writeAll loop: \d+ bytes corrupted/ },
  { fault: 'lose', expect: /TS read\/writeAll loop: \d+ bytes lost/ },
  { fault: 'leak-fd', expect: /TS read\/writeAll loop: open fds at end \d+ > at start/ },
  { fault: 'leak-memory', expect: /TS read\/writeAll loop: RSS (at end|during load)/ },
];

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

function main(): number {
  const duration = arg('duration', 30);
  const connections = arg('connections', 400);
  let bad = 0;
  for (const c of cases) {
    const args = ['--import', 'tsx', path.join(__dirname, 'soak.ts'), '--duration', String(duration), '--connections', String(connections), '--inject', c.fault, '--drain', '20'];
    const r = spawnSync(process.execPath, args, { cwd: path.join(__dirname, '..', '..'), encoding: 'utf8', timeout: (duration + 300) * 1000 });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    const failed = r.status === 1 && /soak: FAIL/.test(out);
    const ok = c.expect === null ? r.status === 0 : failed && c.expect.test(out);
    const findings = out.split('\n').filter((l) => l.startsWith('  - ')).map((l) => l.trim());
    console.log(`${ok ? 'ok  ' : 'BAD '} --inject ${c.fault}: exit ${r.status}${findings.length ? `; ${findings.join('; ')}` : ''}`);
    if (!ok) {
      bad++;
      console.log(out);
    }
  }
  console.log(bad === 0 ? 'self-test: every fault was caught, the clean run passed' : `self-test: ${bad} case(s) wrong`);
  return bad === 0 ? 0 : 1;
}

process.exitCode = main();
