// Sync-primitive micro-benchmark: operations/s of the TS channels and Mutex on the JS thread,
// to measure what the shared event-loop budget (src/internal/sync-budget.ts) costs.
//
//   npm run build:ts && npx tsx bench/sync.ts [lib-dir=../dist] [ops=1000000]
//
// By default it loads the compiled package (dist/, what `require('corio')` runs). Pointing it at
// TypeScript sources (`../src`) measures tsx's module transform as well: tsx reads every imported
// binding through a getter, which made a helper call per operation cost 2.6x in mpsc-bounded.
// `lib-dir` lets the same script run against another build (e.g. before a change: build it with
// `npx tsc -p tsconfig.build.json --outDir /tmp/before`), so before/after runs can alternate.
// Cases:
//   mpsc-bounded   a producer and a consumer on channel(64): send/recv pairs per second
//   mpsc-pingpong  a round trip over two unbounded channels (every recv waits): round trips/s
//   mutex          `using g = await m.lock()` on a free lock in a loop: lock/unlock pairs/s
//   mutex-2tasks   two tasks handing one lock to each other: lock/unlock pairs/s
// Each case runs once untimed (JIT warm-up), then once timed; one line of JSON per run with the
// wall-clock rate (ops/s) and the process CPU time per operation (user + system, ns), which is
// much less sensitive than the rate to other processes competing for the CPUs.
import * as path from 'node:path';

type Sync = typeof import('../src/sync');

const srcDir = path.resolve(__dirname, process.argv[2] ?? '../dist');
const OPS = Number(process.argv[3] ?? 1_000_000);

async function mpscBounded(s: Sync, n: number): Promise<void> {
  const [tx, rx] = s.channel<number>(64);
  const producer = (async () => {
    for (let i = 0; i < n; i++) await tx.send(i);
    tx.close();
  })();
  let sum = 0;
  for (let v = await rx.recv(); v !== undefined; v = await rx.recv()) sum += v;
  await producer;
  if (sum !== (n * (n - 1)) / 2) throw new Error('lost values');
}

async function mpscPingPong(s: Sync, n: number): Promise<void> {
  const [toB, fromA] = s.unboundedChannel<number>();
  const [toA, fromB] = s.unboundedChannel<number>();
  const echo = (async () => {
    for (let v = await fromA.recv(); v !== undefined; v = await fromA.recv()) toA.send(v);
  })();
  for (let i = 0; i < n; i++) {
    toB.send(i);
    if ((await fromB.recv()) !== i) throw new Error('out of order');
  }
  toB.close();
  await echo;
}

async function mutex(s: Sync, n: number): Promise<void> {
  const m = new s.Mutex(0);
  for (let i = 0; i < n; i++) {
    using g = await m.lock();
    g.value++;
  }
}

async function mutexTwoTasks(s: Sync, n: number): Promise<void> {
  const m = new s.Mutex(0);
  const worker = async (): Promise<void> => {
    for (let i = 0; i < n / 2; i++) {
      using g = await m.lock();
      g.value++;
      await null; // hold the lock across an await, so the other task queues behind it
    }
  };
  await Promise.all([worker(), worker()]);
}

const cases: [string, (s: Sync, n: number) => Promise<void>][] = [
  ['mpsc-bounded', mpscBounded],
  ['mpsc-pingpong', mpscPingPong],
  ['mutex', mutex],
  ['mutex-2tasks', mutexTwoTasks],
];

async function main(): Promise<void> {
  const s = (await import(path.join(srcDir, 'sync'))) as Sync;
  const rate: Record<string, number> = {};
  const cpuNs: Record<string, number> = {};
  for (const [name, run] of cases) {
    await run(s, Math.min(OPS, 100_000));
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    await run(s, OPS);
    const c = process.cpuUsage(c0);
    const ns = Number(process.hrtime.bigint() - t0);
    rate[name] = Math.round((OPS / ns) * 1e9);
    cpuNs[name] = Math.round(((c.user + c.system) * 1000) / OPS);
  }
  console.log(JSON.stringify({ src: srcDir, ops: OPS, opsPerSec: rate, cpuNsPerOp: cpuNs }));
}

void main();
