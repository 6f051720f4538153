/**
 * A single-value channel: tokio's `oneshot`.
 *
 * The usual way to hand one result from one async function to another (a reply slot in a
 * request message). The receiver is `PromiseLike`, so `await rx` works; it rejects with
 * `ChannelClosedError` if the sender is closed without sending. The receiver's promise is only
 * created when someone awaits it, so an un-awaited receiver never causes an unhandled rejection.
 *
 * `recv` (and `await rx`) and `closed` spend the budget the sync primitives share with UDP's fast
 * path (see `sync/index.ts`): past 1,024 settlements in a row an operation still takes effect at
 * once, but its promise settles after the event loop's next turn, so a loop of them cannot starve
 * timers and I/O.
 * @module
 */

import { CoopWaiter, WaitList, park } from '../internal/wait-list';
import { completedAtOnce, failedAtOnce, PRIMITIVE_OP } from '../internal/sync-budget';
import { abortError, signalOf } from '../internal/abort';
import { ChannelClosedError } from './errors';
import type { WaitOptions } from './mpsc';

const PENDING = 0;
const SENT = 1;
const SENDER_CLOSED = 2;
const TAKEN = 3;

/** @internal */
class OneshotState<T> {
  status: number = PENDING;
  value: T | undefined = undefined;
  rxClosed = false;
  readonly waiters = new WaitList<CoopWaiter<T>>();
  readonly closedWaiters = new WaitList<CoopWaiter<void>>();
}

/** Sends the one value. */
export class OneshotSender<T> implements Disposable {
  /** @internal */ private state: OneshotState<T>;

  /** @internal */
  constructor(state: OneshotState<T>) {
    this.state = state;
  }

  /** True once the receiver is closed (a send would fail). */
  get isClosed(): boolean {
    return this.state.rxClosed;
  }

  /**
   * Delivers `value`. Throws `ChannelClosedError` (`.value` = `value`) if the receiver is closed,
   * or if this sender already sent or was closed.
   */
  send(value: T): void {
    const s = this.state;
    if (s.rxClosed) throw new ChannelClosedError('Oneshot receiver closed', value);
    if (s.status !== PENDING) throw new ChannelClosedError('Oneshot sender already used', value);
    s.status = SENT;
    s.value = value;
    const ws = s.waiters.drain();
    if (ws.length > 0) {
      s.status = TAKEN;
      for (const w of ws) w.resolve(value);
    }
  }

  /** Resolves when the receiver is closed. @param options - `signal` cancels the wait. */
  closed(options?: WaitOptions): Promise<void> {
    const signal = signalOf(options);
    if (signal?.aborted) return failedAtOnce(abortError(signal), PRIMITIVE_OP);
    if (this.state.rxClosed) return completedAtOnce(undefined, PRIMITIVE_OP);
    return park(this.state.closedWaiters, new CoopWaiter<void>(), signal);
  }

  /** Closes without sending: the receiver rejects with `ChannelClosedError`. Idempotent. */
  close(): void {
    const s = this.state;
    if (s.status !== PENDING) return;
    s.status = SENDER_CLOSED;
    for (const w of s.waiters.drain()) w.reject(new ChannelClosedError('Oneshot sender closed'));
  }

  /** Same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Receives the one value. `await receiver` (or `receiver.recv({ signal })`) resolves with it,
 * or rejects with `ChannelClosedError` if the sender closed without sending.
 */
export class OneshotReceiver<T> implements PromiseLike<T>, Disposable {
  /** @internal */ private state: OneshotState<T>;

  /** @internal */
  constructor(state: OneshotState<T>) {
    this.state = state;
  }

  /**
   * Waits for the value. Rejects with `AbortError` if `signal` aborts (the value, if it comes
   * later, stays available to the next receive).
   */
  recv(options?: WaitOptions): Promise<T> {
    const signal = signalOf(options);
    if (signal?.aborted) return failedAtOnce(abortError(signal), PRIMITIVE_OP);
    const s = this.state;
    if (s.status === SENT || s.status === TAKEN) {
      s.status = TAKEN;
      return completedAtOnce(s.value as T, PRIMITIVE_OP);
    }
    if (s.status === SENDER_CLOSED) return failedAtOnce(new ChannelClosedError('Oneshot sender closed'), PRIMITIVE_OP);
    if (s.rxClosed) return failedAtOnce(new ChannelClosedError('Oneshot receiver closed'), PRIMITIVE_OP);
    return park(s.waiters, new CoopWaiter<T>(), signal);
  }

  /** The value if it was sent, else `undefined`. Never waits. */
  tryRecv(): T | undefined {
    const s = this.state;
    if (s.status === SENT || s.status === TAKEN) {
      s.status = TAKEN;
      return s.value;
    }
    return undefined;
  }

  /** `PromiseLike`: `await receiver` is `await receiver.recv()`. */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.recv().then(onfulfilled, onrejected);
  }

  /**
   * Closes the receiver: a later `send` throws. A value already sent can still be read.
   * Pending receives reject with `ChannelClosedError`. Idempotent.
   */
  close(): void {
    const s = this.state;
    if (s.rxClosed) return;
    s.rxClosed = true;
    for (const w of s.waiters.drain()) w.reject(new ChannelClosedError('Oneshot receiver closed'));
    for (const w of s.closedWaiters.drain()) w.resolve();
  }

  /** Same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * A channel for exactly one value.
 * @returns `[sender, receiver]`.
 */
export function oneshot<T>(): [OneshotSender<T>, OneshotReceiver<T>] {
  const state = new OneshotState<T>();
  return [new OneshotSender(state), new OneshotReceiver(state)];
}
