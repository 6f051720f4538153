import test from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';

test('a process using sleep/timeout/interval/channels exits by itself after its last await', async (t) => {
  const fixture = path.join(__dirname, 'fixtures', 'utils-exit.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  // Guard only (not a timing assertion): a leaked 1-hour timer would keep the child alive.
  const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const [codeOrNull, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('exit', (c, s) => resolve([c, s])),
  );
  clearTimeout(guard);
  t.is(signal, null, 'the child had to be killed: something kept it alive');
  t.is(codeOrNull, 0, out);
  const report = JSON.parse(out.trim().split('\n').pop()!);
  t.true(report.ok, report.error);
  t.deepEqual(report.leftovers, []);
});
