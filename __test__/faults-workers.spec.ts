/**
 * Faults: worker_threads with corio servers and clients, terminated at random moments — 50
 * rounds of 8 (fixtures/faults-workers-main.ts, in a child process so a crash shows as its
 * exit signal). Throughout, the child's main-thread corio server serves a client of this test
 * whose every echoed byte is checked. At the end the child exits by itself with code 0, its
 * main thread has no pending operation and no loop ref left, and its descriptor count is back
 * to where it was before the first worker started.
 */

import test from 'ava';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { TcpStream } from '../src';
import { pattern, readExactly } from './fixtures/tcp-util';

const FIXTURE = path.join(__dirname, 'fixtures', 'faults-workers-main.ts');
const HANG_GUARD_MS = 115_000;

test('8 worker_threads terminated at random moments, 50 rounds: the main server keeps serving, no crash', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const guard = setTimeout(() => child.kill('SIGKILL'), HANG_GUARD_MS);
  const facts: Record<string, string[]> = {};
  let exchanges = 0;
  let bytes = 0;
  let done = false;
  let traffic: Promise<void> | undefined;
  try {
    for await (const line of readline.createInterface({ input: child.stdout })) {
      const [what, ...rest] = line.split(' ');
      facts[what] = rest;
      if (what === 'port') {
        const client = await TcpStream.connect({ port: Number(rest[0]) });
        child.stdin.write('go\n');
        traffic = (async () => {
          try {
            for (let i = 0; !done; i++) {
              const msg = pattern(1 + ((i * 7919) % (128 * 1024)), i);
              const [, back] = await Promise.all([client.writeAll(msg), readExactly(client, msg.length)]);
              if (!back.equals(msg)) throw new Error(`exchange ${i}: echo corrupted`);
              exchanges++;
              bytes += msg.length;
            }
          } finally {
            client.close();
          }
        })();
      } else if (what === 'rounds') {
        done = true;
        await traffic;
        child.stdin.end();
      } else if (what === 'final') {
        break;
      }
    }
    const exit = await exited;
    t.log(
      `seed ${facts.seed?.[0]}: ${facts.rounds?.[0]} rounds, ${facts.rounds?.[1]} workers terminated; ` +
        `main-thread client: ${exchanges} exchanges, ${bytes} bytes verified; final ${facts.final?.join(' ')}`,
    );
    t.deepEqual(exit, { code: 0, signal: null }, stderr);
    t.deepEqual(facts.rounds, ['50', '400', '0'], stderr);
    t.true(exchanges > 0, 'the main thread served throughout');
    const [pendingOps, refs, fdsBefore, fdsAfter, stuck] = (facts.final ?? []).map(Number);
    t.is(stuck, 0, 'every connection from a terminated worker ended');
    t.is(pendingOps, 0);
    t.is(refs, 0);
    if (fdsBefore >= 0) t.true(fdsAfter <= fdsBefore, `descriptors: ${fdsBefore} before, ${fdsAfter} after`);
  } finally {
    clearTimeout(guard);
    child.kill('SIGKILL');
  }
});
