/**
 * A soak echo server: one child process of `npm run soak`, serving echo on 127.0.0.1 (port 0)
 * with corio's TypeScript API in one of two ways, chosen by argv[2]:
 *
 * - `loop`: the seeds' echo, `read` into a per-connection 64 KiB buffer and `writeAll` it back
 *   (the shape of examples/echo.ts and bench/servers/corio-loop.ts);
 * - `copy`: native `copy(socket, socket)` (examples/echo-copy.ts), bytes never enter JS.
 *
 * It exists (rather than reusing bench/servers/*) because the soak needs the server's own
 * figures: connections accepted and served, bytes echoed, errors by code, RSS, open file
 * descriptors and corio's runtime metrics, sampled on request over the IPC channel (see
 * protocol.ts). Run it only as a child of soak.ts (it needs the IPC channel and --expose-gc).
 * It exits when the orchestrator disappears, and after `stop` it closes its listener and must
 * then exit by itself (nothing of corio may keep the event loop alive). argv[3] may name a
 * {@link Fault} to inject on purpose (the soak's own check that its checks can fail).
 *
 * @module
 */
import * as fs from 'node:fs';
import { copy, runtime, TcpListener, TcpStream } from '../../src';
import { bump, ErrorCounts, errorKey, Fault, FAULTS, FromServer, openFds, ServerMode, ServerSample, ToServer } from './protocol';

const mode = process.argv[2] as ServerMode;
if (mode !== 'loop' && mode !== 'copy') {
  console.error(`usage: server.ts loop|copy (got ${String(mode)})`);
  process.exit(2);
}
const fault = (process.argv[3] ?? 'none') as Fault;
if (!FAULTS.includes(fault)) {
  console.error(`unknown fault ${fault} (known: ${FAULTS.join(', ')})`);
  process.exit(2);
}
/** What `leak-memory` keeps. */
const retained: Uint8Array[] = [];
/** Echoed chunks so far, for `corrupt`. */
let chunks = 0;

if (!process.send) {
  console.error('server.ts runs only as a child of bench/soak/soak.ts (it needs an IPC channel)');
  process.exit(2);
}
// The orchestrator died (or closed the channel): never outlive it.
process.on('disconnect', () => process.exit(3));

const gc = (globalThis as { gc?: () => void }).gc;
const t0 = Date.now();
let accepted = 0;
let served = 0;
let bytes = 0;
const errors: ErrorCounts = {};
/** Resolvers waiting for the moment no connection is open. */
let idleWaiters: Array<() => void> = [];

function active(): number {
  return accepted - served;
}

function finished(): void {
  served++;
  if (active() === 0) {
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** The read + writeAll echo loop, 64 KiB buffer, counting what it wrote back. */
async function serveLoop(socket: TcpStream): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    socket.setNoDelay(true);
    const lossy = fault === 'lose' && accepted % 1000 === 0;
    for (;;) {
      const n = await socket.read(buf);
      if (n === null || lossy) break;
      if (fault === 'corrupt' && ++chunks % 1000 === 0) buf[0] ^= 0xff;
      await socket.writeAll(buf.subarray(0, n));
      bytes += n;
    }
  } catch (err) {
    bump(errors, errorKey(err));
  } finally {
    socket.close();
    finished();
  }
}

/** Native echo: `copy` reads and writes on the runtime's threads and resolves the byte count. */
async function serveCopy(socket: TcpStream): Promise<void> {
  try {
    socket.setNoDelay(true);
    const n = await copy(socket, socket); // (not `bytes += await ...`: that reads `bytes` before the await)
    bytes += n;
  } catch (err) {
    bump(errors, errorKey(err));
  } finally {
    socket.close();
    finished();
  }
}

function sample(): ServerSample {
  const mem = process.memoryUsage();
  return {
    t: Date.now() - t0,
    rss: mem.rss,
    fds: openFds(),
    heapUsed: mem.heapUsed,
    arrayBuffers: mem.arrayBuffers,
    accepted,
    served,
    active: active(),
    bytes,
    errors: { ...errors },
    runtime: { ...runtime.metrics() } as unknown as Record<string, number>,
  };
}

/**
 * A full GC, a turn of the event loop for the finalizers it queued (native handles of streams
 * dropped after `close()` are released there), and a second GC for what those freed: the
 * end figures then show what is really retained.
 */
async function settle(): Promise<void> {
  gc?.();
  await new Promise((r) => setImmediate(r));
  gc?.();
  await new Promise((r) => setImmediate(r));
}

function send(msg: FromServer): void {
  process.send!(msg);
}

async function acceptLoop(listener: TcpListener): Promise<void> {
  const serve = mode === 'loop' ? serveLoop : serveCopy;
  for (;;) {
    let socket: TcpStream;
    try {
      socket = await listener.accept();
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_SOCKET_CLOSED') return; // `stop`
      // EMFILE and the like: counted (and fail the run), then accept again after a breath so
      // a persistent error cannot spin the JS thread.
      bump(errors, errorKey(err));
      await new Promise((r) => setTimeout(r, 10));
      continue;
    }
    accepted++;
    if (fault === 'leak-fd' && accepted % 10 === 0) fs.openSync('/dev/null', 'r'); // not one per connection: the fd limit would end the run first
    if (fault === 'leak-memory') retained.push(new Uint8Array(16384).fill(1));
    void serve(socket);
  }
}

async function main(): Promise<void> {
  const listener = await TcpListener.bind({ host: '127.0.0.1', port: 0 }, { backlog: 4096 });
  process.on('message', (raw) => {
    const msg = raw as ToServer;
    if (msg.type === 'sample') {
      if (msg.gc) gc?.();
      send({ type: 'sample', id: msg.id, sample: sample() });
    } else if (msg.type === 'drain') {
      const timer = setTimeout(() => reply(false), msg.timeoutMs);
      let sent = false;
      const reply = (drained: boolean): void => {
        if (sent) return;
        sent = true;
        clearTimeout(timer);
        void settle().then(() => send({ type: 'sample', id: msg.id, sample: sample(), drained }));
      };
      if (active() === 0) reply(true);
      else idleWaiters.push(() => reply(true));
    } else if (msg.type === 'stop') {
      listener.close();
      // From here only corio may keep the process alive, and nothing of it should: the
      // orchestrator checks that this process exits by itself.
      process.channel?.unref();
    }
  });
  gc?.();
  send({ type: 'ready', port: listener.localAddr.port, sample: sample() });
  await acceptLoop(listener);
}

main().catch((err: unknown) => {
  console.error(`soak server (${mode}) failed:`, err);
  process.exit(1);
});
