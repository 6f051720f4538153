/**
 * Faults: accept under file descriptor exhaustion. A child process (fixtures/faults-emfile.ts)
 * runs under `ulimit -n 64` and uses up its descriptors; then:
 * - accept rejects with `EMFILE` (Node's code), at once and every time it is called, and the
 *   listener stays open: corio reports the error and never retries on its own (the epoll
 *   registration is edge-triggered, so nothing spins while nobody accepts);
 * - while the child waits, out of descriptors, with connections queued on its listener, it
 *   burns almost no CPU (measured over a window that the parent ends by events: after it has
 *   connected 20 more clients and then completed 2,000 echo round trips of its own);
 * - once descriptors are freed, every queued connection — including the one whose accept
 *   failed — is accepted and served (its token echoed back, checked here).
 *
 * The fixture is bundled to plain JS first and run by plain `node`: under tsx, the loader (and
 * its esbuild service, with a cold transform cache) needs descriptors of its own at moments the
 * test does not control, which made the child fail or stall for reasons unrelated to corio.
 */

import test from 'ava';
import * as esbuild from 'esbuild';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';

const FIXTURE = path.join(__dirname, 'fixtures', 'faults-emfile.ts');
const NATIVE = path.join(__dirname, '..', 'index.js');

/** The fixture bundled into one plain-JS file (the native loader stays a runtime require). */
function bundleFixture(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'corio-emfile-'));
  const out = path.join(dir, 'faults-emfile.js');
  esbuild.buildSync({
    entryPoints: [FIXTURE],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: out,
    logLevel: 'error',
  });
  return out;
}
const HANG_GUARD_MS = 60_000;
const LATER = 20;
const ROUND_TRIPS = 2000;

/** `n` sequential 1 KiB round trips through a node:net echo server of this process. */
async function echoRoundTrips(n: number): Promise<void> {
  const server = net.createServer((s) => s.pipe(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sock = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((resolve) => sock.once('connect', resolve));
  const msg = Buffer.alloc(1024, 5);
  for (let i = 0; i < n; i++) {
    let got = 0;
    const done = new Promise<void>((resolve) => {
      const onData = (d: Buffer): void => {
        got += d.length;
        if (got >= msg.length) {
          sock.off('data', onData);
          resolve();
        }
      };
      sock.on('data', onData);
    });
    sock.write(msg);
    await done;
  }
  sock.destroy();
  server.close();
}

function connect(port: number, token: string): Promise<{ sock: net.Socket; reply: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.write(token);
      let got = '';
      const reply = new Promise<string>((res) => {
        sock.setEncoding('utf8').on('data', (d: string) => (got += d));
        sock.on('close', () => res(got));
        sock.on('error', () => undefined);
      });
      resolve({ sock, reply });
    });
  });
}

// Descriptor limits (`ulimit -n`) are a POSIX notion.
const posixTest = process.platform === 'win32' ? test.skip : test;

posixTest('accept under descriptor exhaustion reports EMFILE, does not spin, and serves once descriptors free up', async (t) => {
  const bundle = bundleFixture();
  t.teardown(() => fs.rmSync(path.dirname(bundle), { recursive: true, force: true }));
  const child = spawn('sh', ['-c', `ulimit -n 64 && exec "${process.execPath}" "${bundle}"`], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, CORIO_NATIVE_PATH: NATIVE },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const guard = setTimeout(() => child.kill('SIGKILL'), HANG_GUARD_MS);
  const replies: { token: string; reply: Promise<string> }[] = [];
  const facts: Record<string, string[]> = {};
  try {
    let port = 0;
    for await (const line of readline.createInterface({ input: child.stdout })) {
      const [what, ...rest] = line.split(' ');
      facts[what] = rest;
      if (what === 'port') {
        port = Number(rest[0]);
      } else if (what === 'exhausted') {
        const token = 'token-00';
        replies.push({ token, reply: (await connect(port, token)).reply });
      } else if (what === 'emfile') {
        for (let i = 1; i <= LATER; i++) {
          const token = `token-${String(i).padStart(2, '0')}`;
          replies.push({ token, reply: (await connect(port, token)).reply });
        }
        await echoRoundTrips(ROUND_TRIPS); // the window's length: a fixed amount of work
        child.stdin.write(`free ${replies.length}\n`);
      } else if (what === 'served') {
        break;
      }
    }
    const exit = await exited;
    t.log(`child: ${JSON.stringify(facts)}${stderr ? `; stderr: ${stderr}` : ''}`);
    t.deepEqual(exit, { code: 0, signal: null }, stderr);
    t.true(Number(facts.exhausted?.[0]) > 0, 'the child opened descriptors until EMFILE');
    t.deepEqual(facts.emfile, ['EMFILE', String(1 + 20)], 'every accept while exhausted rejected with EMFILE');
    const [cpuUs, wallUs] = (facts.cpu ?? []).map(Number);
    t.log(`while exhausted with ${LATER + 1} connections queued: ${cpuUs} µs CPU over ${wallUs} µs`);
    // A runtime thread spinning on the ready listener would use a whole core's worth (or, on a
    // loaded machine, a large share of one); an idle process uses next to nothing.
    t.true(cpuUs < wallUs * 0.2 + 10_000, `${cpuUs} µs of CPU in ${wallUs} µs`);
    t.deepEqual(facts.served, [String(LATER + 1)]);
    for (const r of replies) t.is(await r.reply, r.token);
  } finally {
    clearTimeout(guard);
    child.kill('SIGKILL');
  }
});
