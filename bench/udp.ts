// UDP benchmark: datagrams/s delivered over IPv4 loopback for 64 B and 1,400 B payloads:
// node:dgram vs corio single calls (sendTo/recvFrom) vs corio batches (sendMany/recvMany of 64),
// all measured in the same run, one sender and one receiver socket in this process. Prints a
// table with ratios against node:dgram.
//
//   npm run bench:udp                 (build the release binding first: npm run build:native)
//   npx tsx bench/udp.ts [ms-per-case=1500] [rounds=3]
//
// Method: the sender keeps at most WINDOW datagrams in flight (sent, not yet received), so the
// receive buffer never overflows and nothing is lost; both sides run as fast as they can on the
// one JS thread. The rate is datagrams received / elapsed time. Every case first runs once for
// WARMUP ms (not counted: JIT, socket buffers, receive-slot pools), then each case runs `rounds`
// times (interleaved) and the best round is reported, to damp noise on a shared machine.
// Beside the rate, the process CPU time (user + system, every thread, so corio's runtime
// workers count too) per datagram is reported: it is much less sensitive than the rate to
// other processes competing for the CPUs.
//
// Every case sends the same payload Buffer (allocated once), to a receive socket with the same
// SO_RCVBUF, with the same window, and stops on the same clock check. On Linux the batch case
// profits from segmented sends (UDP_SEGMENT) and coalesced receives (UDP_GRO): its batches of
// equal datagrams to one peer are their best case (see docs/benchmarks.md).
//
// For profiling one case alone: UDP_CASE=dgram|single|batch UDP_SIZE=64|1400 (either may be
// omitted), e.g. `UDP_CASE=batch UDP_SIZE=64 node --cpu-prof --import tsx bench/udp.ts 5000 1`.
import * as dgram from 'node:dgram';
import { UdpSocket } from '../src';

const MS = Number(process.argv[2] ?? 1500);
const ROUNDS = Number(process.argv[3] ?? 3);
const WARMUP = 300;
const WINDOW = 256;
const BATCH = 64;
const RCVBUF = 4 << 20;

/** Flow control shared by a sender and a receiver: credit = WINDOW - (sent - received). */
class Window {
  sent = 0;
  received = 0;
  #wake: (() => void) | undefined;
  /** Waits until `n` more datagrams may be sent. */
  room(n: number): Promise<void> | undefined {
    if (this.sent - this.received + n <= WINDOW) return undefined;
    return new Promise((r) => (this.#wake = r));
  }
  got(n: number): void {
    this.received += n;
    const w = this.#wake;
    if (w !== undefined && this.sent - this.received <= WINDOW / 2) {
      this.#wake = undefined;
      w();
    }
  }
  release(): void {
    this.#wake?.();
    this.#wake = undefined;
  }
}

async function nodeDgram(size: number, ms: number): Promise<number> {
  const rx = dgram.createSocket({ type: 'udp4', recvBufferSize: RCVBUF });
  const tx = dgram.createSocket('udp4');
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
  await new Promise<void>((r) => tx.bind(0, '127.0.0.1', r));
  const port = rx.address().port;
  const data = Buffer.alloc(size, 7);
  const w = new Window();
  let done = false;
  const start = performance.now();
  const end = start + ms;
  const pump = (): void => {
    while (!done && w.sent - w.received < WINDOW) {
      w.sent++;
      tx.send(data, port, '127.0.0.1');
    }
  };
  const finished = new Promise<number>((resolve) => {
    rx.on('message', () => {
      w.got(1);
      if (done) return;
      if ((w.received & 63) === 0 && performance.now() >= end) {
        done = true;
        resolve(w.received / ((performance.now() - start) / 1000));
        return;
      }
      if (w.sent - w.received <= WINDOW / 2) pump();
    });
  });
  pump();
  const rate = await finished;
  rx.close();
  tx.close();
  return rate;
}

async function corioSingle(size: number, ms: number): Promise<number> {
  const rx = await UdpSocket.bind('127.0.0.1:0', { recvBufferSize: RCVBUF });
  const tx = await UdpSocket.bind('127.0.0.1:0');
  const addr = `127.0.0.1:${rx.localAddr.port}`;
  const data = Buffer.alloc(size, 7);
  const w = new Window();
  let stop = false;
  const start = performance.now();
  const end = start + ms;
  const receiver = (async () => {
    const buf = new Uint8Array(2048);
    while (!stop) {
      await rx.recvFrom(buf);
      w.got(1);
      if ((w.received & 63) === 0 && performance.now() >= end) stop = true;
    }
  })();
  const sender = (async () => {
    while (!stop) {
      const wait = w.room(1);
      if (wait) {
        await wait;
        continue;
      }
      w.sent++;
      await tx.sendTo(data, addr);
    }
  })();
  await receiver;
  const rate = w.received / ((performance.now() - start) / 1000);
  w.release();
  await sender;
  rx.close();
  tx.close();
  return rate;
}

async function corioBatch(size: number, ms: number): Promise<number> {
  const rx = await UdpSocket.bind('127.0.0.1:0', { recvBufferSize: RCVBUF });
  const tx = await UdpSocket.bind('127.0.0.1:0');
  const port = rx.localAddr.port;
  const data = Buffer.alloc(size, 7);
  const batch = Array.from({ length: BATCH }, () => ({ data, address: '127.0.0.1', port }));
  const w = new Window();
  let stop = false;
  const start = performance.now();
  const end = start + ms;
  const receiver = (async () => {
    while (!stop) {
      const ds = await rx.recvMany(BATCH);
      w.got(ds.length);
      if (performance.now() >= end) stop = true;
    }
  })();
  const sender = (async () => {
    while (!stop) {
      const wait = w.room(BATCH);
      if (wait) {
        await wait;
        continue;
      }
      w.sent += BATCH;
      await tx.sendMany(batch);
    }
  })();
  await receiver;
  const rate = w.received / ((performance.now() - start) / 1000);
  w.release();
  await sender;
  rx.close();
  tx.close();
  return rate;
}

type Case = (size: number, ms: number) => Promise<number>;
const allCases: Array<[string, string, Case]> = [
  ['dgram', 'node:dgram', nodeDgram],
  ['single', 'corio single (sendTo/recvFrom)', corioSingle],
  ['batch', `corio batch (sendMany/recvMany ${BATCH})`, corioBatch],
];
const cases = allCases.filter(([key]) => process.env.UDP_CASE === undefined || process.env.UDP_CASE === key);
const sizes = [64, 1400].filter((s) => process.env.UDP_SIZE === undefined || Number(process.env.UDP_SIZE) === s);

/** Runs one case; returns datagrams/s and CPU µs per datagram (all threads of this process). */
async function measure(run: Case, size: number, ms: number): Promise<{ rate: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const rate = await run(size, ms);
  const secs = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { rate, cpu: (c.user + c.system) / (rate * secs) };
}

async function main(): Promise<void> {
  const rows: string[][] = [];
  for (const size of sizes) {
    for (const [, , run] of cases) await run(size, WARMUP);
    const best = new Map<string, { rate: number; cpu: number }>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const [, name, run] of cases) {
        const m = await measure(run, size, MS);
        const b = best.get(name);
        // Best round by rate; CPU per datagram is the lowest seen (the least-disturbed round).
        best.set(name, { rate: Math.max(b?.rate ?? 0, m.rate), cpu: Math.min(b?.cpu ?? Infinity, m.cpu) });
      }
    }
    const base = best.get('node:dgram');
    for (const [, name] of cases) {
      const r = best.get(name) ?? { rate: 0, cpu: 0 };
      rows.push([
        `${size} B`,
        name,
        Math.round(r.rate).toLocaleString('en-US'),
        base ? `${(r.rate / base.rate).toFixed(2)}x` : '-',
        r.cpu.toFixed(2),
        base ? `${(base.cpu / r.cpu).toFixed(2)}x` : '-',
      ]);
    }
  }
  const head = ['payload', 'case', 'datagrams/s', 'vs node:dgram', 'CPU µs/datagram', 'CPU efficiency vs node:dgram'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`UDP over 127.0.0.1, ${MS} ms per case, best of ${ROUNDS}, window ${WINDOW}, node ${process.version}`);
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
