/**
 * The soak's load client: a child process of `npm run soak` that holds a fixed number of
 * concurrent connections to each echo server it is given (soak.ts gives each client one) and
 * churns them until the duration ends. Each connection connects, sends 1 to N messages of random length (1 B to 256 KiB), waits for each
 * echo and checks every byte of it, then half-closes and waits for the server to close too;
 * then the next connection starts in its place.
 *
 * Why node:net and not corio: the client must be an independent implementation of TCP, so that
 * a corio bug cannot cancel itself out on both ends (a read that hands back stale buffer bytes
 * on both sides, say); libuv's loop with its 64 KiB reads and memcmp-based `Buffer.equals`
 * costs little per byte. A client still does more per byte than an echo server (it checks every
 * byte), so soak.ts runs one client process per server: the client is then not the one process
 * that saturates a core first, and one server's stall cannot slow the load on the other.
 *
 * The payload: one 16 MiB pool of bytes from a seeded PRNG (sfc32), generated once; a message is
 * the pool slice at a random offset with a random length, so the expected echo of every message
 * is known without storing it, and bytes delivered to the wrong connection or out of order do
 * not match (offsets differ). Lengths are log-uniform, every order of magnitude from 1 B to
 * 256 KiB equally likely: small messages exercise the per-operation paths, large ones the
 * multi-read/multi-write paths, and the bytes in flight stay modest with 2,000 connections
 * (mean ≈ 21 KiB, versus 128 KiB for a uniform length).
 *
 * With `--resets <fraction>` that fraction of connections is instead reset (RST, SO_LINGER 0)
 * right after the first echoed chunk of a random message, so the servers' error paths churn
 * too; the bytes of that message not yet echoed are counted as abandoned, not lost.
 *
 * Run it only as a child of soak.ts: its config comes as JSON in argv[2], results go over IPC.
 *
 * @module
 */
import * as net from 'node:net';
import { bump, ClientConfig, ClientStats, emptyClientStats, errorKey, FromClient } from './protocol';

if (!process.send) {
  console.error('client.ts runs only as a child of bench/soak/soak.ts (it needs an IPC channel)');
  process.exit(2);
}
const orphaned = (): never => process.exit(3);
process.on('disconnect', orphaned);

const config = JSON.parse(process.argv[2] ?? '{}') as ClientConfig;

/** sfc32: a small, fast, well-tested 32-bit PRNG; returns a generator of floats in [0, 1). */
function sfc32(a: number, b: number, c: number, d: number): () => number {
  return () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** A PRNG for one stream of decisions, derived from the run's seed and a stream number. */
function rngFor(seed: number, stream: number): () => number {
  const r = sfc32(0x9e3779b9, seed | 0, stream | 0, (seed ^ (stream * 0x85ebca6b)) | 0);
  for (let i = 0; i < 15; i++) r(); // mix the seed in before use
  return r;
}

const POOL_SIZE = 16 * 1024 * 1024;
const pool = Buffer.allocUnsafe(POOL_SIZE);
{
  const r = rngFor(config.seed, 0x706f6f6c);
  for (let i = 0; i < POOL_SIZE; i += 4) pool.writeUInt32LE(Math.floor(r() * 4294967296), i);
}

const logMax = Math.log(config.maxMessage + 1);
/** A log-uniform length in [1, maxMessage]. */
function messageLength(r: () => number): number {
  return Math.min(config.maxMessage, Math.max(1, Math.floor(Math.exp(r() * logMax))));
}

/** Bytes of `got` that differ from `want` (same length), counted one by one (error path only). */
function mismatches(got: Buffer, want: Buffer): number {
  let n = 0;
  for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) n++;
  return n;
}

const t0 = Date.now();
const deadline = t0 + config.durationMs;
let stopping = false;
/** Open connections, each with the function that gives it up as stalled (destroy, count). */
const open = new Map<net.Socket, () => void>();
const stats: Record<string, ClientStats> = {};
for (const m of config.modes) stats[m] = emptyClientStats();

function time(acc: { sum: number; max: number }, ms: number): void {
  acc.sum += ms;
  if (ms > acc.max) acc.max = ms;
}

/**
 * Runs one connection to `port`: connect, `messages` request/echo rounds, half-close, wait for
 * the server's close. Resolves when the socket is closed, whatever happened; every outcome is
 * counted in `st`.
 */
function oneConnection(port: number, st: ClientStats, r: () => number): Promise<void> {
  return new Promise((resolve) => {
    const messages = 1 + Math.floor(r() * config.maxMessagesPerConnection);
    // With --resets, this connection may be reset (RST) during the echo of message `resetAt`.
    const resetAt = config.resetFraction > 0 && r() < config.resetFraction ? Math.floor(r() * messages) : -1;
    let done = 0;
    let off = 0; // pool offset of the message in flight
    let len = 0; // its length
    let got = 0; // bytes of its echo received so far
    let verified = 0; // bytes verified on this connection
    let phase: 'connecting' | 'message' | 'closing' | 'ended' = 'connecting';
    let failed = false;
    let cleanEnd = false;
    st.attempts++;
    const started = performance.now();
    let closing = 0;
    const sock = net.connect({ host: '127.0.0.1', port, noDelay: true });
    open.set(sock, () => {
      st.stalled++;
      if (phase === 'message') st.lost += len - got;
      failed = true;
      sock.destroy();
    });

    const next = (): void => {
      if (done >= messages || stopping) {
        phase = 'closing';
        closing = performance.now();
        sock.end(); // half-close: the echo server sees end of stream and closes its side
        return;
      }
      len = messageLength(r);
      off = Math.floor(r() * (POOL_SIZE - len + 1));
      got = 0;
      phase = 'message';
      st.sent += len;
      sock.write(pool.subarray(off, off + len));
    };

    sock.on('connect', () => {
      st.connected++;
      time(st.connectMs, performance.now() - started);
      next();
    });
    sock.on('data', (chunk: Buffer) => {
      if (phase !== 'message') {
        st.corrupted += chunk.length; // bytes nobody asked for
        return;
      }
      const take = Math.min(chunk.length, len - got);
      const part = take === chunk.length ? chunk : chunk.subarray(0, take);
      const want = pool.subarray(off + got, off + got + take);
      const bad = part.equals(want) ? 0 : mismatches(part, want);
      st.corrupted += bad;
      st.verified += take - bad;
      verified += take - bad;
      got += take;
      if (take < chunk.length) st.corrupted += chunk.length - take; // more than was sent
      if (done === resetAt && phase === 'message') {
        // Abort mid-echo: the server is reading or writing this connection when the RST lands.
        st.resets++;
        st.abandoned += len - got;
        st.verifiedBeforeReset += verified;
        phase = 'ended';
        failed = true;
        sock.resetAndDestroy();
        return;
      }
      if (got === len) {
        done++;
        st.messages++;
        next();
      }
    });
    sock.on('end', () => {
      if (phase === 'message') {
        // The server ended its side before echoing everything we sent.
        st.lost += len - got;
        bump(st.errors, 'EARLY_EOF (server ended mid-message)');
        failed = true;
      } else if (phase === 'closing') {
        cleanEnd = true;
      }
      phase = 'ended';
    });
    sock.on('error', (err) => {
      bump(st.errors, errorKey(err));
      if (phase === 'message') st.lost += len - got;
      phase = 'ended';
      failed = true;
    });
    sock.on('close', () => {
      open.delete(sock);
      // Clean: we half-closed after the last verified echo and the server then ended too
      // (fewer messages than planned when the deadline cut the plan short).
      if (cleanEnd && !failed) {
        st.completed++;
        time(st.closeMs, performance.now() - closing);
      }
      resolve();
    });
  });
}

/** One connection slot: connections to `port`, one after another, until the deadline. */
async function slot(port: number, st: ClientStats, r: () => number): Promise<void> {
  while (!stopping) {
    const errorsBefore = Object.values(st.errors).reduce((a, b) => a + b, 0);
    await oneConnection(port, st, r);
    // After a failed connection wait a little before the next, so a dead server cannot turn
    // this loop into a busy loop (the failure is counted and fails the run anyway).
    if (Object.values(st.errors).reduce((a, b) => a + b, 0) > errorsBefore) await new Promise((res) => setTimeout(res, 50));
  }
}

function send(msg: FromClient): void {
  process.send!(msg);
}

async function main(): Promise<void> {
  const slots: Promise<void>[] = [];
  let stream = 1;
  // Open the connections gradually (a few per millisecond) rather than in one burst: the storm
  // case is the fault tests' job; here every server should hold its full share soon after start.
  for (let i = 0; i < config.connectionsPerServer; i++) {
    for (let s = 0; s < config.ports.length; s++) {
      slots.push(slot(config.ports[s], stats[config.modes[s]], rngFor(config.seed, stream++)));
    }
    if (i % 50 === 49) await new Promise((res) => setTimeout(res, 10));
  }
  const progress = setInterval(() => send({ type: 'progress', elapsedMs: Date.now() - t0, stats, open: open.size }), 1000);
  const stopTimer = setTimeout(() => {
    stopping = true;
  }, Math.max(0, deadline - Date.now()));
  const all = Promise.all(slots);
  // Bounded drain: connections still open `drainMs` after the deadline are stalled.
  let drainTimer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([
    all.then(() => true),
    new Promise<boolean>((res) => (drainTimer = setTimeout(() => res(false), config.durationMs + config.drainMs - (Date.now() - t0)))),
  ]);
  clearTimeout(drainTimer);
  clearTimeout(stopTimer);
  clearInterval(progress);
  if (!drained) {
    for (const giveUp of [...open.values()]) giveUp();
    await all;
  }
  send({ type: 'done', elapsedMs: Date.now() - t0, stats });
  process.off('disconnect', orphaned);
  process.disconnect(); // the last message is flushed first; then nothing keeps this process alive
}

main().catch((err: unknown) => {
  console.error('soak client failed:', err);
  process.exit(1);
});
