/**
 * The corio runtime as seen from JS: configuring it before first use, and reading its metrics.
 *
 * One runtime per process runs every socket operation, shared by the main thread and all
 * worker_threads. It starts lazily, on the first operation, with one worker thread per CPU
 * unless {@link configure} said otherwise.
 *
 * @module
 */

import { validateInteger, validateObject } from './errors';
import { native } from './native';

/** Options for {@link configure}. */
export interface RuntimeOptions {
  /** The number of runtime worker threads (1 to 1024). Default: the number of CPUs. */
  workerThreads?: number;
}

/** A snapshot of the runtime's state, as plain numbers. */
export interface RuntimeMetrics {
  /** The number of runtime worker threads (`0` until the runtime has started — reading metrics never starts it — and again once it is shut down). */
  workers: number;
  /** Tasks spawned on the runtime and not yet finished (across the whole process). */
  aliveTasks: number;
  /** Tasks waiting in the runtime's global queue. */
  globalQueueDepth: number;
  /** Operations of this Node environment (thread) started and not yet settled. */
  pendingOps: number;
  /** Things keeping this environment's event loop alive: referenced pending operations and open listeners. */
  refs: number;
  /**
   * Operations of this environment completed, in total: those settled through its completion
   * queue and those that completed at once on the JS thread (the fast path), so
   * `completions / wakeups` counts both per wake-up.
   */
  completions: number;
  /**
   * Times this environment's JS thread was woken to settle completions, in total;
   * `completions / wakeups` is the average batch size.
   */
  wakeups: number;
  /**
   * Native socket handles (listeners, TCP streams, UDP sockets) alive in the whole process,
   * closed or not. A handle dropped without `close()` leaves this count once the garbage
   * collector has collected it (and its socket is closed then too).
   */
  liveHandles: number;
}

/**
 * Configures the process's runtime. Call it before the first socket operation of the process
 * (in any thread); the runtime starts with this configuration on first use.
 *
 * @param options - `workerThreads`: the number of runtime threads
 * @throws TypeError/RangeError for a bad argument
 * @throws Error with code `ERR_RUNTIME_STARTED` once the runtime is running
 */
export function configure(options: RuntimeOptions): void {
  validateObject(options, 'options');
  const config: { workerThreads?: number } = {};
  if (options.workerThreads !== undefined) {
    validateInteger(options.workerThreads, 'options.workerThreads', 1, 1024);
    config.workerThreads = options.workerThreads;
  }
  native().configure(config);
}

/**
 * Reads the runtime's metrics. Process-wide figures (`workers`, `aliveTasks`,
 * `globalQueueDepth`) and figures of the calling Node environment (`pendingOps`, `refs`,
 * `completions`, `wakeups`) come in one plain object.
 */
export function metrics(): RuntimeMetrics {
  return { ...native().metrics() } as RuntimeMetrics;
}

/**
 * Shuts the process's runtime down, for good. Every pending operation of every thread
 * (reads, writes, accepts, connects, native copies, UDP receives...) settles: those that did
 * not finish first reject with an `Error` whose `code` is `'ERR_RUNTIME_SHUTDOWN'`. From then
 * on every operation throws or rejects with that code, {@link configure} throws it too, and nothing
 * native keeps the event loop alive, so the process can exit by itself. Close your sockets
 * afterwards as usual (closing is always allowed).
 *
 * The returned promise resolves once the runtime's threads have stopped (it waits at most
 * 10 seconds for them) and the calling thread's pending promises have settled. Calling it
 * again, from any thread, resolves once the first call's shutdown has finished (at once if it
 * already has). Shutting down never blocks the JS thread.
 */
export function shutdown(): Promise<void> {
  return native().shutdownRuntime();
}
