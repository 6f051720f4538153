/**
 * Process and thread lifetime: Node exits by itself once the last listener/stream is closed
 * (or unref'd), an open listener keeps it alive, process.exit() with operations in flight does
 * not crash, and corio works inside worker_threads, which can be terminated with operations
 * pending.
 */

import test from 'ava';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { TcpStream } from '../src';
import { listen, readAll, readExactly } from './fixtures/tcp-util';

const FIXTURES = path.join(__dirname, 'fixtures');
/** A guard against a hung child: it fails the test instead of hanging the suite. */
const HANG_GUARD_MS = 60_000;

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runChild(mode: string, onLine?: (line: string) => void): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(FIXTURES, 'tcp-exit.ts'), mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child '${mode}' did not exit by itself; stdout: ${stdout}; stderr: ${stderr}`));
    }, HANG_GUARD_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (onLine) for (const line of chunk.split('\n')) if (line) onLine(line);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

test('the process exits by itself after the last server closes', async (t) => {
  const r = await runChild('natural');
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.trim(), 'done');
});

test("unref'd listeners and streams with pending operations do not keep the process alive", async (t) => {
  const r = await runChild('unref');
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.trim(), 'done');
});

test('an open listener keeps the process alive until it is closed', async (t) => {
  let connecting: Promise<void> | undefined;
  const r = await runChild('held', (line) => {
    const m = /^port (\d+)$/.exec(line);
    if (m) {
      connecting = (async () => {
        const s = await TcpStream.connect({ port: Number(m[1]) });
        await s.writeAll('quit');
        await readAll(s); // until the child closes its side
        s.close();
      })();
    }
  });
  await connecting;
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.includes('done'), r.stdout);
});

test('process.exit() with operations in flight exits cleanly', async (t) => {
  const r = await runChild('exit-pending');
  t.is(r.signal, null, r.stderr);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.trim(), 'done');
});

/** Runs the TypeScript worker fixture: the worker registers tsx's CommonJS hook, then loads it. */
test('runtime.configure() before first use sets the worker count; afterwards it throws ERR_RUNTIME_STARTED', async (t) => {
  const r = await runChild('configure');
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.trim(), 'workers 3 ERR_RUNTIME_STARTED');
});

function startWorker(mode: string): Worker {
  const file = path.join(FIXTURES, 'tcp-worker.ts');
  const code = `require('tsx/cjs'); require(${JSON.stringify(file)});`;
  return new Worker(code, { eval: true, workerData: { mode } });
}

function nextMessage(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
    };
    const onMessage = (m: unknown): void => {
      cleanup();
      if (typeof m === 'object' && m !== null && 'error' in m) reject(new Error(String((m as { error: unknown }).error)));
      else resolve(m);
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
  });
}

test('works inside a worker_thread', async (t) => {
  const worker = startWorker('echo');
  // Listen for 'exit' now: Node emits it right after delivering the last message, before an
  // `await` on that message resumes, so a listener added later can miss it.
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  const { port } = (await nextMessage(worker)) as { port: number };
  const done = nextMessage(worker);
  const client = await TcpStream.connect({ port });
  await client.writeAll('from main');
  await client.shutdown();
  t.is((await readAll(client)).toString(), 'from main');
  client.close();
  t.is(await done, 'done');
  t.is(await exited, 0, 'the worker exits by itself');
});

test('a worker_thread can be terminated with operations pending', async (t) => {
  for (let i = 0; i < 4; i++) {
    const worker = startWorker('pending');
    t.is(await nextMessage(worker), 'pending');
    await worker.terminate();
  }
  // The main thread's corio still works afterwards.
  const listener = await listen();
  const [client, server] = await Promise.all([TcpStream.connect(listener.localAddr), listener.accept()]);
  await client.writeAll('alive');
  t.is((await readExactly(server, 5)).toString(), 'alive');
  client.close();
  server.close();
  listener.close();
});
