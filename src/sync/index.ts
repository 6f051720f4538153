/**
 * tokio's synchronization primitives for async JS: channels (mpsc, oneshot, broadcast, watch),
 * Semaphore, Notify, Mutex and JoinSet. Pure TypeScript: none of them crosses into native code.
 *
 * Fairness: an operation that can complete at once (a receive with a value queued, a send with
 * room, a free lock, available permits, a stored `Notify` permit...) returns a settled promise,
 * and a waiter woken by a synchronous call (a send to a waiting receiver, a release) settles in
 * a microtask. Awaiting either never lets Node's event loop turn, so two async functions
 * exchanging values would starve timers and sockets. Like tokio's cooperative budget, at most
 * 1,024 such settlements (a budget shared with UDP's JS-thread fast path, whose calls spend 16
 * times as much: `CORIO_SYNC_BUDGET` socket calls, 64 by default; `internal/sync-budget.ts`)
 * happen in a row; after that each operation still takes effect at
 * once, in call order (the value is taken, the lock or permits held, the waiter unlinked), and
 * only its promise settles after the event loop's next turn, in the order the operations took
 * effect — so FIFO waiters, direct hand-over and every other ordering guarantee hold. The
 * synchronous `try*` methods return values and are not budgeted.
 * @module
 */

export { ChannelClosedError, LaggedError, SemaphoreClosedError, ReleasedError } from './errors';
export { channel, unboundedChannel, Sender, UnboundedSender, Receiver } from './mpsc';
export type { WaitOptions } from './mpsc';
export { oneshot, OneshotSender, OneshotReceiver } from './oneshot';
export { broadcast, BroadcastSender, BroadcastReceiver } from './broadcast';
export { watch, WatchSender, WatchReceiver } from './watch';
export { Semaphore, Permit, MAX_PERMITS } from './semaphore';
export type { AcquireOptions } from './semaphore';
export { Notify } from './notify';
export type { NotifiedOptions } from './notify';
export { Mutex, MutexGuard } from './mutex';
export type { LockOptions } from './mutex';
export { JoinSet } from './join-set';
export type { JoinResult, TaskHandle } from './join-set';
