/**
 * Faults: a slow reader while a writer sends 1 GiB. Backpressure must reach the writer through
 * each of corio's write paths — `writeAll`, the Node Duplex of `toNodeStream()` (write() returns
 * false, then 'drain') and the `WritableStream` of `stream.writable` — so its memory stays
 * bounded. The writer runs in a child process (fixtures/faults-writer.ts) so its memory is
 * measured in isolation; every chunk it writes is a fresh 1 MiB allocation, so a path that
 * buffered instead of waiting would grow towards the full gigabyte. The reader, here, reads
 * 64 KiB at a time and yields to the event loop a few times after each read (paced by the
 * amount read, never by a clock).
 */

import test from 'ava';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { TcpListener } from '../src';

const TOTAL = Number(process.env.CORIO_FAULTS_BACKPRESSURE_BYTES ?? 1 << 30);
/** The writer's RSS may grow at most this much over its post-warm-up baseline. */
const BOUND = 128 << 20;
/** Buffer memory after a full GC (V8 releases it lazily, so this includes some garbage). */
const BUF_BOUND = 128 << 20;
/** Bytes the write path may hold that were not yet reported written. */
const IN_FLIGHT_BOUND = 8 << 20;
const HANG_GUARD_MS = 110_000;
const FIXTURE = path.join(__dirname, 'fixtures', 'faults-writer.ts');

interface WriterReport {
  written: number;
  peakRss: number;
  peakBuf: number;
  peakInFlight: number;
}

const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function slowRead(mode: string): Promise<{ read: number; report: WriterReport; stderr: string; ms: number }> {
  const started = Date.now();
  const listener = await TcpListener.bind({ port: 0 });
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', FIXTURE, mode, String(listener.localAddr.port), String(TOTAL)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const guard = setTimeout(() => child.kill('SIGKILL'), HANG_GUARD_MS);
  try {
    const stream = await listener.accept();
    listener.close();
    const buf = new Uint8Array(64 * 1024);
    let read = 0;
    for (;;) {
      const n = await stream.read(buf);
      if (n === null) break;
      read += n;
      for (let i = 0; i < 3; i++) await yieldTurn(); // a slow consumer
    }
    stream.close();
    const code = await exited;
    if (code !== 0) throw new Error(`writer exited with ${code}: ${stderr}`);
    return { read, report: JSON.parse(stdout.trim()) as WriterReport, stderr, ms: Date.now() - started };
  } finally {
    clearTimeout(guard);
    child.kill('SIGKILL');
  }
}

for (const mode of ['writeAll', 'duplex', 'web']) {
  test(`a slow reader bounds the writer's memory through ${mode} (1 GiB)`, async (t) => {
    const { read, report, ms } = await slowRead(mode);
    t.is(read, TOTAL, 'every byte arrived');
    t.is(report.written, TOTAL);
    t.log(
      `${mode}: ${TOTAL >> 20} MiB in ${ms} ms; writer growth over baseline: RSS ${(report.peakRss / 2 ** 20).toFixed(1)} MiB, ` +
        `buffers after GC ${(report.peakBuf / 2 ** 20).toFixed(1)} MiB, unacknowledged writes at most ${report.peakInFlight >> 20} MiB ` +
        `(bounds ${BOUND >> 20} / ${BUF_BOUND >> 20} / ${IN_FLIGHT_BOUND >> 20} MiB)`,
    );
    t.true(report.peakRss < BOUND, `RSS grew ${report.peakRss} bytes`);
    t.true(report.peakBuf < BUF_BOUND, `buffers grew ${report.peakBuf} bytes`);
    t.true(report.peakInFlight <= IN_FLIGHT_BOUND, `${report.peakInFlight} bytes handed over and not yet written`);
  });
}
