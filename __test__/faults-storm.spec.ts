/**
 * Faults: a connection storm. A client in a child process (fixtures/faults-storm-client.ts,
 * node:net) opens 10,000 connections in a burst (up to 5,000 at a time) against a corio
 * listener with a backlog of 128, here. Every connection the client sees established must be
 * served: its 8-byte token comes back intact. Connects that fail on the client side (refused or
 * timed out while the SYN queue overflows) are legitimate; they are counted and reported.
 */

import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import * as path from 'node:path';
import { TcpListener, TcpStream } from '../src';
import { codeOf } from './fixtures/tcp-util';

const FIXTURE = path.join(__dirname, 'fixtures', 'faults-storm-client.ts');
const TOTAL = 10_000;
/**
 * Connections the client keeps in flight: 5,000, or less where the descriptor limit is lower
 * (each side holds up to this many sockets; `ulimit -n` is 256 on some macOS machines).
 */
function concurrency(): number {
  if (process.platform === 'win32') return 2_000;
  const limit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  return Number.isFinite(limit) ? Math.max(16, Math.min(5_000, Math.floor((limit - 128) / 2))) : 5_000;
}
const HANG_GUARD_MS = 110_000;

interface Counts {
  established: number;
  echoed: number;
  failed: Record<string, number>;
  dropped: Record<string, number>;
}

async function serve(s: TcpStream, errors: Record<string, number>): Promise<boolean> {
  try {
    const buf = new Uint8Array(8);
    let got = 0;
    while (got < 8) {
      const n = await s.read(buf.subarray(got));
      if (n === null) return false;
      got += n;
    }
    await s.writeAll(buf);
    return true;
  } catch (err) {
    const code = String(codeOf(err));
    errors[code] = (errors[code] ?? 0) + 1;
    return false;
  } finally {
    s.close();
  }
}

test('a storm of 10,000 connects against a backlog of 128: every established connection is served', async (t) => {
  const listener = await TcpListener.bind({ port: 0 }, { backlog: 128 });
  const serverErrors: Record<string, number> = {};
  let accepted = 0;
  let served = 0;
  const serving: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const s of listener) {
      accepted++;
      serving.push(serve(s, serverErrors).then((ok) => void (ok && served++)));
    }
  })();
  const inFlight = concurrency();
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, String(listener.localAddr.port), String(TOTAL), String(inFlight)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const guard = setTimeout(() => child.kill('SIGKILL'), HANG_GUARD_MS);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(guard);
  listener.close();
  await accepting;
  await Promise.all(serving);
  t.is(code, 0, stderr);
  const counts = JSON.parse(stdout.trim()) as Counts;
  const failed = Object.values(counts.failed).reduce((a, b) => a + b, 0);
  t.log(
    `${TOTAL} connects (${inFlight} in flight) in ${Date.now() - started} ms: ${counts.established} established, ${counts.echoed} echoed, ` +
      `failed connects ${JSON.stringify(counts.failed)}, server: ${accepted} accepted, ${served} served, errors ${JSON.stringify(serverErrors)}`,
  );
  t.deepEqual(counts.dropped, {}, 'no established connection went unserved');
  t.is(counts.echoed, counts.established);
  t.is(counts.established + failed, TOTAL);
  t.is(served, counts.established, 'the server served exactly the established connections');
});
