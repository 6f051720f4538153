// The native bridge (crates/corio-node): completion queue batching, cancellation, panics,
// ref counting and environment teardown, tested against the raw binding (index.js).
import test from 'ava';
import { execFile } from 'node:child_process';
import * as path from 'node:path';

const bindingPath = path.join(__dirname, '..', 'index.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const native = require(bindingPath) as typeof import('../index.js');

/** Runs a CommonJS snippet in a fresh node process with `native` bound to the binding. */
function child(code: string, timeoutMs = 60_000, nodeArgs: string[] = []) {
  const script = `const native = require(${JSON.stringify(bindingPath)});\n${code}`;
  return new Promise<{ status: number | null; signal: string | null; stdout: string; stderr: string; timedOut: boolean }>((resolve) => {
    execFile(process.execPath, [...nodeArgs, '-e', script], { encoding: 'utf8', timeout: timeoutMs }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { killed?: boolean; signal?: string; code?: number | string }) | null;
      resolve({
        status: e ? (typeof e.code === 'number' ? e.code : null) : 0,
        signal: e?.signal ?? null,
        stdout,
        stderr,
        timedOut: Boolean(e?.killed),
      });
    });
  });
}

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

test.serial('10,000 concurrent no-ops settle, batched into fewer wake-ups', async (t) => {
  const before = native.metrics();
  const ops: Promise<void>[] = [];
  for (let i = 0; i < 10_000; i++) ops.push(native.noop());
  await Promise.all(ops);
  const after = native.metrics();
  t.is(after.completions - before.completions, 10_000);
  t.true(after.wakeups - before.wakeups <= 10_000);
  t.is(after.pendingOps, 0);
});

test('the baseline no-op (napi-rs per-promise path) settles too', async (t) => {
  await Promise.all(Array.from({ length: 100 }, () => native.noopBaseline()));
  t.pass();
});

test('cancel(opId) rejects with AbortError / ABORT_ERR and frees the op id', async (t) => {
  const p = native.__pendingForTest(101);
  t.is(native.metrics().pendingOps >= 1, true);
  native.cancel(101);
  const e = await rejection(p);
  t.is(e.name, 'AbortError');
  t.is(e.code, 'ABORT_ERR');
  const again = native.__pendingForTest(101); // the id is free again
  native.cancel(101);
  t.is((await rejection(again)).code, 'ABORT_ERR');
  native.cancel(999_999); // unknown id: no-op
});

test('a reused pending op id is a RangeError', async (t) => {
  const p = native.__pendingForTest(202);
  t.throws(() => native.__pendingForTest(202), { instanceOf: RangeError, message: /opId/ });
  native.cancel(202);
  await rejection(p);
});

test('a native panic becomes a rejected promise', async (t) => {
  const e = await rejection(native.__panicForTest());
  t.true(e instanceof Error);
  t.is(e.code, 'ERR_NATIVE_PANIC');
  t.regex(e.message, /deliberate panic/);
  await native.noop(); // the runtime still works
});

test('bad arguments throw TypeError/RangeError naming the argument', (t) => {
  t.throws(() => native.cancel('x' as any), { instanceOf: TypeError, message: /"opId"/ });
  t.throws(() => native.cancel(-1), { instanceOf: RangeError, message: /"opId"/ });
  t.throws(() => native.cancel(1.5), { instanceOf: RangeError, message: /"opId"/ });
  t.throws(() => native.NativeTcpStream.connect(1 as any, 80), { instanceOf: TypeError, message: /"host"/ });
  t.throws(() => native.NativeTcpStream.connect('127.0.0.1', 65536), { instanceOf: RangeError, message: /"port"/ });
  t.throws(() => native.NativeTcpListener.bind('127.0.0.1', 0, 0), { instanceOf: RangeError, message: /"backlog"/ });
  t.throws(() => native.NativeTcpStream.connect('127.0.0.1', 1, 5 as any), { instanceOf: TypeError, message: /"opts"/ });
  t.throws(() => native.copy({} as any, {} as any), { instanceOf: TypeError, message: /"from"/ });
  t.throws(() => native.configure({ workerThreads: 0 }), { instanceOf: RangeError, message: /workerThreads/ });
});

test('configure() works before first use and throws ERR_RUNTIME_STARTED after', async (t) => {
  const r = await child(`
    native.configure({ workerThreads: 3 });
    native.noop().then(() => {
      let code = 'none';
      try { native.configure({ workerThreads: 2 }) } catch (e) { code = e.code }
      console.log(JSON.stringify({ workers: native.metrics().workers, code }));
    });
  `);
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), { workers: 3, code: 'ERR_RUNTIME_STARTED' });
});

test('the process exits by itself after the last op and the last listener close', async (t) => {
  const r = await child(`
    (async () => {
      await native.noop();
      const l = await native.NativeTcpListener.bind('127.0.0.1', 0);
      const accept = l.accept().catch((e) => e.code);
      setImmediate(() => l.close());
      console.log(await accept);
    })();
  `);
  t.false(r.timedOut);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), 'ERR_SOCKET_CLOSED');
});

test('an unref()ed listener with a pending accept does not keep the process alive', async (t) => {
  const r = await child(`
    native.NativeTcpListener.bind('127.0.0.1', 0).then((l) => {
      l.accept().then(() => console.log('accepted?'));
      l.unref();
      console.log('unref');
    });
  `);
  t.false(r.timedOut);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), 'unref');
});

test('a ref\'d pending op keeps the process alive until it settles', async (t) => {
  const r = await child(`
    const p = native.__pendingForTest(1);
    p.catch((e) => console.log('settled', e.code));
    // Cancel from a timer: the loop must still be alive when it fires.
    setTimeout(() => native.cancel(1), 50).unref();
  `);
  t.false(r.timedOut);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), 'settled ABORT_ERR');
});

test('a worker_thread terminated with ops in flight does not crash the process', async (t) => {
  const r = await child(`
    const { Worker } = require('node:worker_threads');
    const src = \`
      const native = require(${JSON.stringify(bindingPath)});
      const { parentPort } = require('node:worker_threads');
      (async () => {
        const l = await native.NativeTcpListener.bind('127.0.0.1', 0);
        for (let i = 0; i < 100; i++) native.__pendingForTest(i + 1).catch(() => {});
        const s = await Promise.all([native.NativeTcpStream.connect('127.0.0.1', l.localAddr().port), l.accept()]);
        l.accept().catch(() => {});
        Promise.resolve(native.tcpRead(s[0].slot, new Uint8Array(16), 0)).catch(() => {});
        native.copy(s[1], s[1]).catch(() => {});
        parentPort.postMessage('ready');
        for (;;) await native.noop();
      })();
    \`;
    (async () => {
      for (let round = 0; round < 5; round++) {
        const w = new Worker(src, { eval: true });
        await new Promise((res) => w.once('message', res));
        await w.terminate();
      }
      await native.noop();
      console.log('main ok', native.metrics().pendingOps);
    })();
  `);
  t.false(r.timedOut);
  t.is(r.signal, null, r.stderr);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), 'main ok 0');
});

test('process.exit() with ops in flight does not crash', async (t) => {
  const r = await child(`
    (async () => {
      const l = await native.NativeTcpListener.bind('127.0.0.1', 0);
      l.accept();
      for (let i = 0; i < 1000; i++) native.noop();
      for (let i = 0; i < 100; i++) native.__pendingForTest(i + 1);
      setImmediate(() => process.exit(7));
      for (;;) await native.noop();
    })();
  `);
  t.false(r.timedOut);
  t.is(r.signal, null, r.stderr);
  t.is(r.status, 7, r.stderr);
});

test('the hot-path functions validate the slot: TypeError, RangeError, or a slot that is no stream', async (t) => {
  const buf = new Uint8Array(8);
  t.throws(() => native.tcpRead('1' as any, buf, 0), { instanceOf: TypeError, message: /"slot"/ });
  t.throws(() => native.tcpWrite(-1, buf, 0), { instanceOf: RangeError, message: /"slot"/ });
  t.throws(() => native.tcpWriteAll(0.5, buf, 0), { instanceOf: RangeError, message: /"slot"/ });
  const l = await native.NativeTcpListener.bind('127.0.0.1', 0);
  const [c, s] = await Promise.all([native.NativeTcpStream.connect('127.0.0.1', l.localAddr().port), l.accept()]);
  // A slot number of a reused index with another generation, and one never handed out.
  for (const stale of [c.slot + 2 ** 32, 2 ** 31]) {
    t.throws(() => native.tcpRead(stale, buf, 0), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE', message: /'slot'/ } as any);
  }
  t.throws(() => native.tcpRead(c.slot, 'x' as any, 0), { instanceOf: TypeError, message: /"buf"/ });
  t.is(await native.tcpWriteAll(c.slot, new TextEncoder().encode('hi'), 0), undefined);
  let got = 0;
  while (got < 2) got += (await native.tcpRead(s.slot, buf.subarray(got), 0)) as number;
  t.is(new TextDecoder().decode(buf.subarray(0, 2)), 'hi');
  c.close();
  s.close();
  l.close();
});

test('a slot stops naming a stream once its object was collected', async (t) => {
  const r = await child(
    `
    // Made and closed in their own function: a suspended async frame can keep its last
    // temporaries alive, which would keep an object from the collector.
    async function closedPair(l) {
      const pair = await Promise.all([native.NativeTcpStream.connect('127.0.0.1', l.localAddr().port), l.accept()]);
      pair[0].close();
      pair[1].close();
      return pair.map((s) => s.slot);
    }
    (async () => {
      const l = await native.NativeTcpListener.bind('127.0.0.1', 0);
      const slots = await closedPair(l);
      l.close();
      for (let i = 0; i < 1000; i++) {
        global.gc();
        await new Promise((resolve) => setImmediate(resolve));
        const answers = slots.map((slot) => {
          try {
            const p = native.tcpRead(slot, new Uint8Array(1), 0);
            if (p instanceof Promise) p.catch(() => {});
            return 'alive';
          } catch (e) {
            return String(e instanceof TypeError) + ' ' + e.code;
          }
        });
        if (answers.includes('alive')) continue;
        console.log(answers.join(', '));
        process.exit(0);
      }
      process.exit(3); // never collected
    })();
    `,
    60_000,
    ['--expose-gc'],
  );
  t.is(r.status, 0, r.stdout + r.stderr);
  t.is(r.stdout.trim(), 'true ERR_INVALID_ARG_VALUE, true ERR_INVALID_ARG_VALUE');
});

test('a read buffer detached while the read is pending is never written', async (t) => {
  const l = await native.NativeTcpListener.bind('127.0.0.1', 0);
  const [c, s] = await Promise.all([native.NativeTcpStream.connect('127.0.0.1', l.localAddr().port), l.accept()]);
  const ab = new ArrayBuffer(64);
  const view = new Uint8Array(ab);
  const read = native.tcpRead(s.slot, view, 0) as Promise<number | null>;
  structuredClone(ab, { transfer: [ab] }); // detaches `view`
  t.is(view.byteLength, 0);
  await native.tcpWriteAll(c.slot, new TextEncoder().encode('hello'), 0);
  const e = await rejection(read);
  t.is(e.code, 'ERR_INVALID_STATE');
  c.close();
  s.close();
  l.close();
});

test('close() rejects pending ops of the handle with ERR_SOCKET_CLOSED', async (t) => {
  const l = await native.NativeTcpListener.bind('127.0.0.1', 0);
  const [c, s] = await Promise.all([native.NativeTcpStream.connect('127.0.0.1', l.localAddr().port), l.accept()]);
  const read = native.tcpRead(s.slot, new Uint8Array(8), 0) as Promise<number | null>;
  s.close();
  t.is((await rejection(read)).code, 'ERR_SOCKET_CLOSED');
  t.is((await rejection(native.tcpRead(s.slot, new Uint8Array(8), 0) as Promise<number | null>)).code, 'ERR_SOCKET_CLOSED');
  t.throws(() => s.localAddr(), { message: /closed/ });
  t.true(s.closed);
  // The peer sees end of stream once the aborted read's future has released the socket.
  t.is(await native.tcpRead(c.slot, new Uint8Array(8), 0), 0);
  c.close();
  l.close();
});
