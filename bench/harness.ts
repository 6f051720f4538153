/**
 * What the server benchmarks (bench/echo.ts, bench/http.ts) share: starting a server process
 * that prints `listening <port>`, reading a process's CPU time and the machine's CPU steal from
 * /proc, and the median and number format of their tables.
 *
 * @module
 */
import { spawn, ChildProcess, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository root (servers run there). */
export const root = path.join(__dirname, '..');

const clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** Clock ticks (`utime`, `stime` in /proc) to seconds. */
export const ticksToSeconds = (ticks: number): number => ticks / clkTck;

/** A benchmark server: a command that prints `listening <port>` once it accepts connections. */
export interface ServerSpec {
  name: string;
  cmd: string;
  args: string[];
}

/** A started server. */
export interface Running {
  spec: ServerSpec;
  proc: ChildProcess;
  port: number;
}

/** The arguments that run `bench/servers/<file>` under Node with tsx. */
export const tsServer = (file: string): string[] => ['--import', 'tsx', path.join(__dirname, 'servers', file)];

/**
 * Starts `spec` (through `wrap`, e.g. to pin it to a CPU) and resolves once it printed its port;
 * rejects if it exits first or prints nothing within 60 s.
 */
export function start(spec: ServerSpec, wrap: (cmd: string, args: string[]) => [string, string[]] = (c, a) => [c, a]): Promise<Running> {
  return new Promise((resolve, reject) => {
    const [cmd, args] = wrap(spec.cmd, spec.args);
    const proc = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${spec.name}: no "listening" line within 60 s`)), 60_000);
    proc.once('exit', (code) => reject(new Error(`${spec.name} exited early (code ${code})`)));
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ spec, proc, port: Number(m[1]) });
      }
    });
  });
}

/** utime + stime of a whole process (every thread), in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return ticksToSeconds(Number(fields[11]) + Number(fields[12]));
}

/**
 * The machine's CPU time so far from /proc/stat's first line, in clock ticks: `steal` (time
 * the hypervisor gave this VM's CPUs to others) and `total`; null where there is no /proc.
 */
export function machineTicks(): { steal: number; total: number } | null {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user).
    return { steal: f[7] ?? 0, total: f.slice(0, 8).reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

/**
 * The share of the machine's CPU time the hypervisor gave to other VMs between two
 * {@link machineTicks} readings, in percent (null without /proc): above a few percent, rounds
 * swing and ratios of a few percent mean little.
 */
export function stealPercent(t0: ReturnType<typeof machineTicks>, t1: ReturnType<typeof machineTicks>): number | null {
  return t0 && t1 ? (100 * (t1.steal - t0.steal)) / Math.max(1, t1.total - t0.total) : null;
}

/** The median of `xs` (the mean of the middle two for an even count). */
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A table number: grouped integers from 100 up, one decimal below. */
export function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1);
}
