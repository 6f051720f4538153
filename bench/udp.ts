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
// one JS thread. The rate is datagrams received / elapsed time. Each case runs `rounds` times
// (interleaved) and the best round is reported, to damp noise on a shared machine.
import * as dgram from 'node:dgram';
import { UdpSocket } from '../src';

const MS = Number(process.argv[2] ?? 1500);
const ROUNDS = Number(process.argv[3] ?? 3);
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

async function nodeDgram(size: number): Promise<number> {
  const rx = dgram.createSocket({ type: 'udp4', recvBufferSize: RCVBUF });
  const tx = dgram.createSocket('udp4');
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
  await new Promise<void>((r) => tx.bind(0, '127.0.0.1', r));
  const port = rx.address().port;
  const data = Buffer.alloc(size, 7);
  const w = new Window();
  let done = false;
  const start = performance.now();
  const end = start + MS;
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

async function corioSingle(size: number): Promise<number> {
  const rx = await UdpSocket.bind('127.0.0.1:0', { recvBufferSize: RCVBUF });
  const tx = await UdpSocket.bind('127.0.0.1:0');
  const addr = `127.0.0.1:${rx.localAddr.port}`;
  const data = Buffer.alloc(size, 7);
  const w = new Window();
  let stop = false;
  const start = performance.now();
  const end = start + MS;
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

async function corioBatch(size: number): Promise<number> {
  const rx = await UdpSocket.bind('127.0.0.1:0', { recvBufferSize: RCVBUF });
  const tx = await UdpSocket.bind('127.0.0.1:0');
  const port = rx.localAddr.port;
  const data = Buffer.alloc(size, 7);
  const batch = Array.from({ length: BATCH }, () => ({ data, address: '127.0.0.1', port }));
  const w = new Window();
  let stop = false;
  const start = performance.now();
  const end = start + MS;
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

const cases: Array<[string, (size: number) => Promise<number>]> = [
  ['node:dgram', nodeDgram],
  ['corio single (sendTo/recvFrom)', corioSingle],
  [`corio batch (sendMany/recvMany ${BATCH})`, corioBatch],
];

async function main(): Promise<void> {
  const rows: string[][] = [];
  for (const size of [64, 1400]) {
    const best = new Map<string, number>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, run] of cases) best.set(name, Math.max(best.get(name) ?? 0, await run(size)));
    }
    const base = best.get('node:dgram') ?? 1;
    for (const [name] of cases) {
      const r = best.get(name) ?? 0;
      rows.push([`${size} B`, name, Math.round(r).toLocaleString('en-US'), `${(r / base).toFixed(2)}x`]);
    }
  }
  const head = ['payload', 'case', 'datagrams/s', 'vs node:dgram'];
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
