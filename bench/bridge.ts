// Bridge round-trip benchmark: ops/s of a no-op native async call through corio's completion
// queue (`noop`, one wake-up of the JS thread per batch) vs napi-rs' per-promise path
// (`noopBaseline`: one napi_async_work + deferred per call). Prints a table.
//
//   npx tsx bench/bridge.ts [seconds-per-case=1]
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const native = require(path.join(__dirname, '..', 'index.js')) as typeof import('../index.js');

const seconds = Number(process.argv[2] ?? 1);

type Case = { name: string; call: () => Promise<void> };
const cases: Case[] = [
  { name: 'noop (corio completion queue)', call: () => native.noop() },
  { name: 'noopBaseline (napi-rs AsyncTask, per promise)', call: () => native.noopBaseline() },
];

/** Runs `concurrency` chains of back-to-back calls for `seconds`; returns ops/s. */
async function measure(call: () => Promise<void>, concurrency: number): Promise<number> {
  let ops = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await call();
        ops++;
      }
    }),
  );
  return ops / ((performance.now() - start) / 1000);
}

async function main() {
  for (const c of cases) await measure(c.call, 64); // warm-up (starts runtimes/thread pools)
  const rows: Record<string, string>[] = [];
  for (const concurrency of [1, 16, 256]) {
    const m0 = native.metrics();
    const ours = await measure(cases[0].call, concurrency);
    const m1 = native.metrics();
    const base = await measure(cases[1].call, concurrency);
    rows.push({
      concurrency: String(concurrency),
      'noop ops/s': Math.round(ours).toLocaleString('en-US'),
      'noopBaseline ops/s': Math.round(base).toLocaleString('en-US'),
      ratio: `${(ours / base).toFixed(2)}x`,
      'promises per wake-up': ((m1.completions - m0.completions) / Math.max(1, m1.wakeups - m0.wakeups)).toFixed(1),
    });
  }
  console.log(`bridge round trip, ${seconds}s per case, node ${process.version}, ${native.metrics().workers} runtime workers`);
  console.table(rows);
}

main();
