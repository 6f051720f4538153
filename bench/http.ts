/**
 * HTTP benchmark: `node:http` serving a 12-byte body over three kinds of socket, with `wrk`
 * (Debian/Ubuntu: `apt-get install wrk`) as the load client, alternating server by server in
 * one run:
 *
 * - `node:http`            — bench/servers/http-node.ts: `http.createServer().listen()`, the peer;
 * - `node:net in a Duplex` — bench/servers/http-net-duplex.ts: node:net sockets handed to
 *   `http.Server` as plain `stream.Duplex`es, the cost of any non-`net.Socket` stream there;
 * - `corio toNodeStream`   — bench/servers/http-corio.ts: corio's `TcpListener` and
 *   `socket.toNodeStream()`.
 *
 * `http.Server` parses a `net.Socket` straight from its libuv handle; every other stream goes
 * through `'data'` events, which is why the middle row exists: it separates that cost from
 * corio's own.
 *
 * Workloads: (h64) 64 keep-alive connections, (h1) one keep-alive connection (requests/s), with
 * one wrk thread. Server CPU per request = Δ(utime+stime) of the server process ÷ requests.
 * Each cell runs `BENCH_SECONDS` (default 3) after a 1-s warm-up; `BENCH_ROUNDS` (default 3)
 * rotate the server order; the table shows the median round.
 *
 *   npx tsx bench/http.ts   (writes bench/results/http.json)
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cpuSeconds, fmt, machineTicks, median, Running, ServerSpec, start, stealPercent, tsServer } from './harness';

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

const servers: ServerSpec[] = [
  { name: 'node:http', cmd: process.execPath, args: tsServer('http-node.ts') },
  { name: 'node:net in a Duplex', cmd: process.execPath, args: tsServer('http-net-duplex.ts') },
  { name: 'corio toNodeStream', cmd: process.execPath, args: tsServer('http-corio.ts') },
];

const workloads = [
  { key: 'h64', title: '(h64) 64 keep-alive connections', connections: 64 },
  { key: 'h1', title: '(h1) 1 keep-alive connection', connections: 1 },
];

interface Cell {
  reqPerSec: number;
  cpuUsPerReq: number;
}

/** Runs wrk against `port` for `secs` seconds; requests/s and the count of requests. */
function wrk(port: number, connections: number, secs: number): { reqPerSec: number; requests: number } {
  const r = spawnSync('wrk', ['-t1', `-c${connections}`, `-d${secs}s`, `http://127.0.0.1:${port}/`], {
    encoding: 'utf8',
    timeout: (secs + 30) * 1000,
  });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr || r.error}`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  const total = /(\d+) requests in/.exec(r.stdout);
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(r.stdout);
  if (!rps || !total) throw new Error(`unexpected wrk output:\n${r.stdout}`);
  if (errors) throw new Error(`wrk saw errors:\n${r.stdout}`);
  return { reqPerSec: Number(rps[1]), requests: Number(total[1]) };
}

function runCell(s: Running, connections: number): Cell {
  wrk(s.port, connections, 1); // warm-up (JIT, connection setup)
  const cpu0 = cpuSeconds(s.proc.pid!);
  const r = wrk(s.port, connections, seconds);
  const cpu1 = cpuSeconds(s.proc.pid!);
  return { reqPerSec: r.reqPerSec, cpuUsPerReq: ((cpu1 - cpu0) * 1e6) / Math.max(1, r.requests) };
}

async function main(): Promise<void> {
  if (spawnSync('wrk', ['--version']).error) {
    console.log('http benchmark skipped: wrk is not installed (apt-get install wrk)');
    return;
  }
  const running: Running[] = [];
  const ticks0 = machineTicks();
  try {
    for (const spec of servers) running.push(await start(spec));
    const results: Record<string, Record<string, { reqPerSec: number; cpuUsPerReq: number; samples: number[] }>> = {};
    for (const w of workloads) {
      const per: Record<string, Cell[]> = {};
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < running.length; i++) {
          const s = running[(i + round) % running.length];
          (per[s.spec.name] ??= []).push(runCell(s, w.connections));
        }
      }
      results[w.key] = {};
      for (const [name, cells] of Object.entries(per)) {
        results[w.key][name] = {
          reqPerSec: median(cells.map((c) => c.reqPerSec)),
          cpuUsPerReq: median(cells.map((c) => c.cpuUsPerReq)),
          samples: cells.map((c) => Math.round(c.reqPerSec)),
        };
      }
    }
    const rows: Record<string, string>[] = [];
    for (const w of workloads) {
      const base = results[w.key]['node:http'];
      for (const s of servers) {
        const r = results[w.key][s.name];
        rows.push({
          workload: w.title,
          server: s.name,
          'requests/s': fmt(r.reqPerSec),
          'vs node:http': `${(r.reqPerSec / base.reqPerSec).toFixed(2)}x`,
          'server CPU µs/req': r.cpuUsPerReq.toFixed(1),
          'CPU vs node:http': `${(r.cpuUsPerReq / base.cpuUsPerReq).toFixed(2)}x`,
          rounds: r.samples.map(fmt).join(' / '),
        });
      }
    }
    const stealPct = stealPercent(ticks0, machineTicks());
    const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
    console.log(
      `http benchmark: wrk, ${seconds}s × ${rounds} round(s) per cell, node ${process.version}, ${os.cpus().length} CPUs ` +
        `(${os.cpus()[0]?.model ?? '?'}), load average at end: ${load}, CPU steal during the run: ${stealPct === null ? '?' : `${stealPct.toFixed(1)}%`}`,
    );
    console.table(rows);
    const outDir = path.join(__dirname, 'results');
    fs.mkdirSync(outDir, { recursive: true });
    const meta = { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, model: os.cpus()[0]?.model, seconds, rounds, loadavg: os.loadavg(), stealPct };
    fs.writeFileSync(path.join(outDir, 'http.json'), JSON.stringify({ meta, workloads, servers: servers.map((s) => s.name), results }, null, 2));
  } finally {
    for (const r of running) r.proc.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
