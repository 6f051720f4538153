/**
 * The budget that keeps a loop of completions on the JS thread from starving Node's event loop,
 * shared by UDP's fast path and the sync primitives (it is one event loop; TCP's fast path has the
 * same budget in the binding, counted there).
 *
 * A socket call the fast path completes, or a sync-primitive operation that can complete at
 * once (a receive with a value queued, a lock that is free...), returns a settled promise, and
 * awaiting one is a microtask; so is the wake-up of a sync-primitive waiter by a synchronous call
 * (a send to a waiting receiver, a release to a waiting locker). A loop of such completions —
 * a read loop over a ready socket, two async functions exchanging values over channels — would
 * never give the event loop a turn, so timers and other I/O would wait until the loop ends
 * (tokio's cooperative budget prevents the same). So at most a budget's worth of such
 * settlements happen at once in a row (`CORIO_SYNC_BUDGET` socket calls, 64 by default as for
 * TCP in the binding; see below for primitives); after that the calls
 * still take effect at once — their I/O is done, their value taken, their waiter unlinked, in
 * call order — but their promises settle together, in the order they took effect, in a
 * `setImmediate` callback after the event loop's next turn, which renews the budget. Taking
 * effect at once keeps every ordering guarantee without a trip through the runtime: a burst of
 * calls costs one `setImmediate` per budget, not one native wait each.
 *
 * The budget is counted in units of work, not calls: a socket call (a system call, several
 * microseconds) spends {@link SOCKET_CALL} units, a sync-primitive operation (a few hundred
 * nanoseconds of JS) spends {@link PRIMITIVE_OP}. So the event loop gets a turn after 64 socket
 * calls or 1,024 primitive operations, or a mix: a fraction of a millisecond either way, while
 * a tight channel loop pays for one turn per 1,024 operations instead of per 64 (measured in
 * docs/benchmarks.md). The count starts again only when a deferral's `setImmediate` runs, so
 * even a program that yields on its own sees one settlement in every budget's worth wait for
 * one turn.
 * @module
 */

/** The units a socket call spends (the binding's budget counts socket calls). */
export const SOCKET_CALL = 16;
/** The units a sync-primitive operation or wake-up spends: about 1/16 of a socket call's work. */
export const PRIMITIVE_OP = 1;

/**
 * Units settled at once before the next event-loop turn: `CORIO_SYNC_BUDGET` socket calls (64 by
 * default, as the binding's budget; read as the binding reads it: a non-negative integer, else
 * the default). `0` is the sockets' setting for "no socket call completes on the JS thread"
 * (the binding then sends them all to the runtime); the primitives keep the default budget
 * then, rather than settle every operation a turn late.
 */
const LIMIT = ((): number => {
  const text = (process.env.CORIO_SYNC_BUDGET ?? '').trim();
  const calls = /^\+?[0-9]+$/.test(text) ? Number(text) : 64;
  return (calls > 0 ? calls : 64) * SOCKET_CALL;
})();

/** Units settled at once since the last renewal. */
let streak = 0;
/** Settlers waiting for the `setImmediate` callback, in completion order. */
let deferred: Array<() => void> | null = null;
/** Settles once the deferred promises have (while `deferred` is not null). */
let barrier: Promise<void> | null = null;
let releaseBarrier: (() => void) | null = null;

function renew(): void {
  const list = deferred;
  const release = releaseBarrier;
  deferred = null;
  barrier = releaseBarrier = null;
  streak = 0;
  if (list !== null) for (const settle of list) settle();
  release?.();
}

/**
 * A promise of `value`, the result of a call that completed at once: already settled while
 * the budget lasts, else settled right after the event loop's next turn (in completion order).
 *
 * @param cost - the units it spends: {@link SOCKET_CALL} or {@link PRIMITIVE_OP}
 */
export function completedAtOnce<T>(value: T, cost: number): Promise<T> {
  if ((streak += cost) <= LIMIT) return Promise.resolve(value);
  return new Promise<T>((resolve) => defer(() => resolve(value)));
}

/** As {@link completedAtOnce}, for a call that failed at once with `err`. */
export function failedAtOnce(err: unknown, cost: number): Promise<never> {
  if ((streak += cost) <= LIMIT) return Promise.reject(err);
  return new Promise<never>((_, reject) => defer(() => reject(err)));
}

/**
 * Calls `settle(arg)` — a waiter's resolve or reject — now while the budget lasts, else right
 * after the event loop's next turn, behind the settlements deferred before it. A wake-up spends
 * the budget like an at-once completion: a ping-pong whose every receive waits (unbounded
 * channels, Notify, a lock handed back and forth) is a microtask loop too.
 */
export function settleInBudget<A>(settle: (arg: A) => void, arg: A): void {
  if ((streak += PRIMITIVE_OP) <= LIMIT) settle(arg);
  else defer(() => settle(arg));
}

function defer(settle: () => void): void {
  if (deferred === null) {
    deferred = [];
    barrier = new Promise<void>((resolve) => {
      releaseBarrier = resolve;
    });
    setImmediate(renew);
  }
  deferred.push(settle);
}

/**
 * `p`, the promise of a call that had to wait, settled no earlier than the promises of calls
 * that completed at once before it and are still deferred: a waiting call's completion comes
 * in the event loop's poll phase, before the `setImmediate` that settles deferred ones, and
 * the caller must still see a socket's calls settle in call order. (Sync-primitive waiters need
 * no such wrapper: their wake-ups go through {@link settleInBudget}, behind deferred ones.)
 */
export function inCallOrder<T>(p: Promise<T>): Promise<T> {
  const b = barrier;
  if (b === null) return p;
  return p.then(
    (v) => b.then(() => v),
    (err: unknown) => b.then(() => Promise.reject(err)),
  );
}
