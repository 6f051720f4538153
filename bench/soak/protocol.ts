/**
 * The messages the soak program's processes exchange over their Node IPC channels, in one place
 * so the orchestrator (soak.ts), the echo servers (server.ts) and the load client (client.ts)
 * agree on them, plus the little helpers all three need (descriptor counting, error keys).
 *
 * Every process of the soak is a separate Node process so that a crash, a leak or a stall of a
 * server is visible as that server's own figure and cannot be hidden by (or blamed on) the
 * client; the IPC channel carries only small JSON messages, never payload bytes.
 *
 * @module
 */
import * as fs from 'node:fs';

/** The two echo servers under test. */
export type ServerMode = 'loop' | 'copy';

/**
 * A fault the loop server can inject on purpose (`soak --inject <fault>`), to show that the
 * soak's checks do fail when a server misbehaves: `corrupt` flips a byte of every 1000th echoed
 * chunk, `lose` closes every 1000th connection after its first read without echoing it,
 * `leak-fd` opens /dev/null for every 10th connection and never closes it, `leak-memory` keeps 16 KiB
 * per connection forever.
 */
export type Fault = 'none' | 'corrupt' | 'lose' | 'leak-fd' | 'leak-memory';

/** Every {@link Fault}, for validating the option. */
export const FAULTS: readonly Fault[] = ['none', 'corrupt', 'lose', 'leak-fd', 'leak-memory'];

/** Human names of the servers, as printed in the report. */
export const SERVER_NAMES: Record<ServerMode, string> = {
  loop: 'TS read/writeAll loop',
  copy: 'native copy(socket, socket)',
};

/** Counts of errors, keyed by {@link errorKey}. */
export type ErrorCounts = Record<string, number>;

/** One server's view of itself at one moment, sent on request. */
export interface ServerSample {
  /** Milliseconds since the server process started its clock (after bind). */
  t: number;
  /** Resident set size in bytes. */
  rss: number;
  /** Open file descriptors (entries of /proc/self/fd, without the one the listing itself uses). */
  fds: number;
  /** V8 heap in use, bytes. */
  heapUsed: number;
  /** Bytes of ArrayBuffers alive (buffers the JS side holds). */
  arrayBuffers: number;
  /** Connections accepted so far. */
  accepted: number;
  /** Connections whose handler finished (socket closed). */
  served: number;
  /** Connections currently open (accepted − served). */
  active: number;
  /** Bytes echoed back (read/writeAll loop: bytes written; copy: bytes `copy` resolved). */
  bytes: number;
  /** Errors by code, as the server saw them (accept and per-connection). */
  errors: ErrorCounts;
  /** corio's runtime metrics at that moment (tasks alive, pending operations...). */
  runtime: Record<string, number>;
}

/** A request from the orchestrator to a server. */
export type ToServer =
  /** Report a sample; `gc` first runs a full garbage collection (servers run with --expose-gc). */
  | { type: 'sample'; id: number; gc: boolean }
  /** Wait (at most `timeoutMs`) until no connection is open, then report a sample after a GC. */
  | { type: 'drain'; id: number; timeoutMs: number }
  /** Close the listener and let the process exit by itself. */
  | { type: 'stop' };

/** A message from a server to the orchestrator. */
export type FromServer =
  | { type: 'ready'; port: number; sample: ServerSample }
  | { type: 'sample'; id: number; sample: ServerSample; drained?: boolean };

/** What the client measured against one server. */
export interface ClientStats {
  /** Connections attempted. */
  attempts: number;
  /** Connections established. */
  connected: number;
  /** Connections that ran to a clean end: every message echoed and verified, then closed by both sides. */
  completed: number;
  /** Messages whose echo was complete and correct. */
  messages: number;
  /** Bytes the client wrote. */
  sent: number;
  /** Bytes echoed back and equal to what was sent. */
  verified: number;
  /** Bytes echoed back but different from what was sent, or beyond what was sent. */
  corrupted: number;
  /** Bytes sent whose echo never came (the connection ended or failed first). */
  lost: number;
  /** Connections still open when the client's drain limit ran out (a stall). */
  stalled: number;
  /** Connections the client reset on purpose (`--resets`), mid-echo. */
  resets: number;
  /** Bytes sent on those connections whose echo was not awaited (neither verified nor lost). */
  abandoned: number;
  /** Bytes verified on those connections before the reset (part of `verified`). */
  verifiedBeforeReset: number;
  /** Errors by code, as the client saw them. */
  errors: ErrorCounts;
  /** Sum and maximum of connect times (connect() to 'connect'), ms. */
  connectMs: { sum: number; max: number };
  /** Sum and maximum of close times (our half-close to the socket's 'close'), ms. */
  closeMs: { sum: number; max: number };
}

/** A fresh, all-zero {@link ClientStats}. */
export function emptyClientStats(): ClientStats {
  return { attempts: 0, connected: 0, completed: 0, messages: 0, sent: 0, verified: 0, corrupted: 0, lost: 0, stalled: 0, resets: 0, abandoned: 0, verifiedBeforeReset: 0, errors: {}, connectMs: { sum: 0, max: 0 }, closeMs: { sum: 0, max: 0 } };
}

/** Settings the orchestrator hands to the client (as JSON in argv). */
export interface ClientConfig {
  /** One port per server, in the order of `modes`. */
  ports: number[];
  /** The server each port belongs to. */
  modes: ServerMode[];
  /** Concurrent connections per server. */
  connectionsPerServer: number;
  /** How long to keep starting new messages and connections, ms. */
  durationMs: number;
  /** How long to wait for open connections to finish after the duration, ms. */
  drainMs: number;
  /** PRNG seed: the same seed replays the same connection plans. */
  seed: number;
  /** Largest message, bytes (the smallest is 1). */
  maxMessage: number;
  /** Most messages per connection (at least 1). */
  maxMessagesPerConnection: number;
  /** The fraction of connections to reset (RST, SO_LINGER 0) after the first echoed chunk of a random message. */
  resetFraction: number;
}

/** A message from the client to the orchestrator. */
export type FromClient =
  | { type: 'progress'; elapsedMs: number; stats: Record<string, ClientStats>; open: number }
  | { type: 'done'; elapsedMs: number; stats: Record<string, ClientStats> };

/** The key errors are counted under: Node's `code` (or the name), with the system call if any. */
export function errorKey(err: unknown): string {
  const e = err as { code?: unknown; syscall?: unknown; name?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : 'UNKNOWN';
  return typeof e?.syscall === 'string' ? `${code} (${e.syscall})` : code;
}

/** Adds one to `counts[key]`. */
export function bump(counts: ErrorCounts, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

/**
 * The number of file descriptors this process has open: the entries of /proc/self/fd, less
 * the one descriptor that reading the directory opens itself. Linux only (the soak needs /proc).
 */
export function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length - 1;
}
