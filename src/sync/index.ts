/**
 * tokio's synchronization primitives for async JS: channels (mpsc, oneshot, broadcast, watch),
 * Semaphore, Notify, Mutex and JoinSet. Pure TypeScript: none of them crosses into native code.
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
