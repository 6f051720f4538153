/**
 * tokio's time utilities for async JS: `sleep`, `timeout` and `interval`, all cancellable
 * with an `AbortSignal` and none leaving a timer behind once settled.
 * @module
 */

export { sleep } from './sleep';
export type { SleepOptions } from './sleep';
export { timeout } from './timeout';
export type { TimeoutOptions } from './timeout';
export { interval, Interval, MISSED_TICK_TOLERANCE_MS } from './interval';
export type { IntervalOptions, MissedTickBehavior, TickOptions } from './interval';
export { TimeoutError, IntervalClosedError } from './errors';
