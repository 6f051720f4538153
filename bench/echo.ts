/**
 * Echo benchmark: one load client (crates/corio/examples/echo_load.rs, a mio client in its own
 * process: one thread for (a) and (c), two for (b), which one client thread cannot saturate —
 * with one, even the std bound measured only 1.1–1.6× node:net) against four echo servers, each
 * in its own process, alternating cell by cell in one run:
 *
 * - `node:net`     — bench/servers/node-net.ts (`socket.pipe(socket)`), the peer;
 * - `corio loop`   — bench/servers/corio-loop.ts (TS `read` + `writeAll` loop);
 * - `corio copy`   — bench/servers/corio-copy.ts (native `copy(socket, socket)`);
 * - `corio core` / `tokio` — crates/corio/examples/rt_echo_server.rs: the same Rust echo task
 *   (read 64 KiB, `write_all`) on corio's core and on tokio, 2 workers each: native copy's peers;
 * - `std threads`  — crates/corio/examples/std_echo_server.rs (thread per connection), the bound.
 *
 * Workloads: (a) 1 connection ping-pong, 64 B (round trips/s); (b) 64 connections × 1 KiB
 * request/response (msgs/s); (c) 1 connection bulk streaming in 64 KiB chunks (MB/s); (b′) as
 * (b) with the client reading right after each write (`BENCH_WORKLOADS` key `e`). The client
 * otherwise waits for readiness after a short read, as event-driven clients do; echo_load's
 * doc says why both are measured.
 * Server CPU per message is utime+stime of the server process (all its threads) from
 * /proc/<pid>/stat before and after the cell, divided by every message of the cell; the load
 * client reports its own (client CPU per message): on a 2-CPU machine the two share the CPUs,
 * and a server that makes the client work harder per message leaves itself less.
 * `BENCH_PIN=1` pins the servers to CPU 1 and the client to CPU 0 (see `pin` below; printed only).
 * The header line reports the machine's CPU steal during the run (time the hypervisor gave to
 * other VMs), also recorded in echo.json: above a few percent, rounds swing.
 * Each cell runs `BENCH_SECONDS` (default 3) after a short warm-up; `BENCH_ROUNDS` rounds
 * (default 3) rotate the server order; the table shows the median round.
 * The corio servers inherit this process's environment, so `CORIO_SYNC_BUDGET` (the binding's
 * JS-thread fast path: 64 by default, 0 = off) applies to them; the setting is printed and
 * recorded in the results.
 * `BENCH_QUICK=1`: 0.5 s cells, 1 round (a smoke run). `BENCH_WORKLOADS=b` (or `ab`, …): only
 * those workloads, printed but not written to bench/results/echo.json (which keeps the full table). `BENCH_BIN_DIR`: where echo_load and
 * std_echo_server are (default target/release/examples).
 *
 *   npm run bench          (builds, then runs this, the chart and the bridge benchmark)
 *   npx tsx bench/echo.ts  (this only; needs the release binaries)
 *
 * Writes bench/results/echo.json (read by bench/chart.ts).
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cpuSeconds, fmt, machineTicks, median, root, Running, ServerSpec, start, stealPercent, ticksToSeconds, tsServer } from './harness';

const quick = process.env.BENCH_QUICK === '1';
const seconds = Number(process.env.BENCH_SECONDS ?? (quick ? 0.5 : 3));
const rounds = Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 3));
const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(root, 'target');
const binDir = process.env.BENCH_BIN_DIR ?? path.join(targetDir, 'release', 'examples');
const client = path.join(binDir, 'echo_load');
const stdServer = path.join(binDir, 'std_echo_server');
const rtServer = path.join(binDir, 'rt_echo_server');
/** The binding's fast-path setting the corio servers run with (they inherit this env). */
const syncBudget = process.env.CORIO_SYNC_BUDGET ?? 'unset (default 64)';
/**
 * `BENCH_PIN=1`: servers run on CPU 1 only and the load client on CPU 0 only (`taskset`), as if
 * each had a machine of its own: no server thread can preempt the client on its CPU. Each side
 * then has one CPU, so the numbers are not comparable with unpinned runs.
 */
const pin = process.env.BENCH_PIN === '1';
/** `cmd args` run on CPU `cpu` when pinning, else unchanged. */
const pinned = (cpu: number, cmd: string, args: string[]): [string, string[]] =>
  pin ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args];

const servers: ServerSpec[] = [
  { name: 'node:net', cmd: process.execPath, args: tsServer('node-net.ts') },
  { name: 'corio loop', cmd: process.execPath, args: tsServer('corio-loop.ts') },
  { name: 'corio copy', cmd: process.execPath, args: tsServer('corio-copy.ts') },
  { name: 'corio core', cmd: rtServer, args: ['corio'] },
  { name: 'tokio', cmd: rtServer, args: ['tokio'] },
  { name: 'std threads', cmd: stdServer, args: [] },
];

interface Workload {
  key: string;
  title: string;
  unit: string;
  args: (secs: number) => string[];
  value: (r: ClientResult) => number;
}
const allWorkloads: Workload[] = [
  { key: 'a', title: '(a) ping-pong 1 conn × 64 B', unit: 'round trips/s', args: (s) => ['rr', String(s), '1', '64'], value: (r) => r.ops / r.secs },
  { key: 'b', title: '(b) 64 conns × 1 KiB req/resp', unit: 'msgs/s', args: (s) => ['rr', String(s), '64', '1024', '2'], value: (r) => r.ops / r.secs },
  { key: 'c', title: '(c) bulk 64 KiB streaming', unit: 'MB/s', args: (s) => ['bulk', String(s), '1', '65536'], value: (r) => r.bytes / r.secs / 1e6 },
  // (b) again with the client reading right after each write (`eager`), as this benchmark's
  // client did until 2026-11-22: shows how much of (b) depends on the client's read policy.
  { key: 'e', title: '(b′) as (b), eager-read client', unit: 'msgs/s', args: (s) => ['rr', String(s), '64', '1024', '2', 'eager'], value: (r) => r.ops / r.secs },
];
const only = process.env.BENCH_WORKLOADS;
const workloads = only === undefined ? allWorkloads : allWorkloads.filter((w) => only.includes(w.key));
if (workloads.length === 0) throw new Error(`BENCH_WORKLOADS=${only}: no workload among a, b, c`);

interface ClientResult {
  ops: number;
  bytes: number;
  secs: number;
  totalOps: number;
  /** The client's utime + stime in clock ticks (null where /proc is missing). */
  cpuTicks: number | null;
}

interface Cell {
  value: number;
  cpuUsPerMsg: number;
  clientCpuUsPerMsg: number;
  totalOps: number;
}

function runCell(s: Running, w: Workload): Cell {
  const cpu0 = cpuSeconds(s.proc.pid!);
  const [cmd, args] = pinned(0, client, [String(s.port), ...w.args(seconds)]);
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  const cpu1 = cpuSeconds(s.proc.pid!);
  if (r.status !== 0) throw new Error(`client against ${s.spec.name} failed: ${r.stderr || r.error}`);
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as ClientResult;
  const perMsg = (secs: number): number => (secs * 1e6) / Math.max(1, res.totalOps);
  return {
    value: w.value(res),
    cpuUsPerMsg: perMsg(cpu1 - cpu0),
    clientCpuUsPerMsg: res.cpuTicks === null ? NaN : perMsg(ticksToSeconds(res.cpuTicks)),
    totalOps: res.totalOps,
  };
}

async function main(): Promise<void> {
  for (const f of [client, stdServer, rtServer]) {
    if (!fs.existsSync(f)) {
      throw new Error(`${f} missing: cargo build --release -p corio --example echo_load --example std_echo_server --example rt_echo_server`);
    }
  }
  const running: Running[] = [];
  const ticks0 = machineTicks();
  try {
    for (const spec of servers) running.push(await start(spec, (cmd, args) => pinned(1, cmd, args)));
    const results: Record<string, Record<string, { value: number; cpuUsPerMsg: number; clientCpuUsPerMsg: number; samples: number[] }>> = {};
    for (const w of workloads) {
      const per: Record<string, Cell[]> = {};
      for (let round = 0; round < rounds; round++) {
        // Rotate the order each round so no server always runs first (or after another).
        for (let i = 0; i < running.length; i++) {
          const s = running[(i + round) % running.length];
          (per[s.spec.name] ??= []).push(runCell(s, w));
        }
      }
      results[w.key] = {};
      for (const [name, cells] of Object.entries(per)) {
        results[w.key][name] = {
          value: median(cells.map((c) => c.value)),
          cpuUsPerMsg: median(cells.map((c) => c.cpuUsPerMsg)),
          clientCpuUsPerMsg: median(cells.map((c) => c.clientCpuUsPerMsg)),
          samples: cells.map((c) => Math.round(c.value * 10) / 10),
        };
      }
    }

    const rows: Record<string, string>[] = [];
    for (const w of workloads) {
      const base = results[w.key]['node:net'];
      for (const s of servers) {
        const r = results[w.key][s.name];
        rows.push({
          workload: w.title,
          server: s.name,
          [`throughput`]: `${fmt(r.value)} ${w.unit}`,
          'vs node:net': `${(r.value / base.value).toFixed(2)}x`,
          'server CPU µs/msg': r.cpuUsPerMsg.toFixed(2),
          'CPU vs node:net': `${(r.cpuUsPerMsg / base.cpuUsPerMsg).toFixed(2)}x`,
          'client CPU µs/msg': r.clientCpuUsPerMsg.toFixed(2),
          rounds: r.samples.map(fmt).join(' / '),
        });
      }
    }
    const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
    const ticks1 = machineTicks();
    const stealPct = stealPercent(ticks0, ticks1);
    console.log(
      `echo benchmark: ${seconds}s × ${rounds} round(s) per cell, node ${process.version}, ` +
        `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), CORIO_SYNC_BUDGET ${syncBudget}, ${pin ? 'pinned (servers CPU 1, client CPU 0), ' : ''}` +
        `load average at end: ${load}, CPU steal during the run: ${stealPct === null ? '?' : `${stealPct.toFixed(1)}%`}`,
    );
    console.table(rows);
    if (only !== undefined || pin) return; // echo.json keeps the full, unpinned table
    const outDir = path.join(__dirname, 'results');
    fs.mkdirSync(outDir, { recursive: true });
    const meta = { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, model: os.cpus()[0]?.model, seconds, rounds, syncBudget, pinned: pin, loadavg: os.loadavg(), stealPct };
    fs.writeFileSync(
      path.join(outDir, 'echo.json'),
      JSON.stringify({ meta, workloads: workloads.map(({ key, title, unit }) => ({ key, title, unit })), servers: servers.map((s) => s.name), results }, null, 2),
    );
  } finally {
    for (const r of running) r.proc.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
