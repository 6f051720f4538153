/**
 * A single-value channel that keeps only the latest value: tokio's `watch`.
 *
 * For configuration, state or "current leader" broadcasts where receivers only care about the
 * newest value: senders overwrite, receivers read it at any time with `borrow()` and wait for
 * a newer one with `changed()`. A version counter tells each receiver what it has seen.
 *
 * `changed` and async iteration spend the budget the sync primitives share with UDP's fast path
 * (see `sync/index.ts`): past 1,024 settlements in a row an operation still takes effect at once,
 * but its promise settles after the event loop's next turn, so a loop of them cannot starve timers
 * and I/O.
 * @module
 */

import { CoopWaiter, WaitList, park } from '../internal/wait-list';
import { completedAtOnce, failedAtOnce, PRIMITIVE_OP } from '../internal/sync-budget';
import { abortError, signalOf } from '../internal/abort';
import { ChannelClosedError } from './errors';
import type { WaitOptions } from './mpsc';

class ChangedWaiter<T> extends CoopWaiter<void> {
  constructor(readonly rx: WatchReceiver<T>) {
    super();
  }
}

/** @internal */
class WatchState<T> {
  version = 0;
  senderClosed = false;
  receivers = 0;
  readonly waiters = new WaitList<ChangedWaiter<T>>();

  constructor(public value: T) {}
}

/** The sending half of a watch channel. */
export class WatchSender<T> implements Disposable {
  /** @internal */ private state: WatchState<T>;

  /** @internal */
  constructor(state: WatchState<T>) {
    this.state = state;
  }

  /** Number of open receivers. */
  get receiverCount(): number {
    return this.state.receivers;
  }

  /** True once {@link close} was called. */
  get isClosed(): boolean {
    return this.state.senderClosed;
  }

  /** The current value. */
  borrow(): T {
    return this.state.value;
  }

  /**
   * Replaces the value and wakes every receiver waiting in `changed()`. Stored even when there
   * are no receivers (tokio's `send_replace`). Throws `ChannelClosedError` after `close()`.
   */
  send(value: T): void {
    const s = this.state;
    if (s.senderClosed) throw new ChannelClosedError('Watch sender closed', value);
    s.value = value;
    s.version++;
    for (const w of s.waiters.drain()) {
      w.rx.seen = s.version;
      w.resolve();
    }
  }

  /** A new receiver; the current value counts as already seen. */
  subscribe(): WatchReceiver<T> {
    return new WatchReceiver(this.state);
  }

  /** Closes the channel: waiting and later `changed()` calls reject (once changes are seen). */
  close(): void {
    const s = this.state;
    if (s.senderClosed) return;
    s.senderClosed = true;
    for (const w of s.waiters.drain()) w.reject(new ChannelClosedError('Watch sender closed'));
  }

  /** Same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * A receiver of a watch channel. Async-iterable: yields the current value first, then each
 * newer value (intermediate values may be skipped), and ends when the sender closes.
 */
export class WatchReceiver<T> implements AsyncIterable<T>, Disposable {
  /** @internal */ private state: WatchState<T>;
  /** @internal */ seen: number;
  /** @internal */ private closedRx = false;

  /** @internal */
  constructor(state: WatchState<T>) {
    this.state = state;
    this.seen = state.version;
    state.receivers++;
  }

  /** The current value, without marking it seen. */
  borrow(): T {
    return this.state.value;
  }

  /** The current value, marking it seen. */
  borrowAndUpdate(): T {
    this.seen = this.state.version;
    return this.state.value;
  }

  /** True if a value newer than the last seen one was sent. */
  hasChanged(): boolean {
    return this.state.version !== this.seen;
  }

  /**
   * Resolves (and marks the newest value seen) when a value newer than the last seen one was
   * sent, immediately if one already was. Rejects with `ChannelClosedError` if the sender or
   * this receiver is closed and there is no unseen value, with `AbortError` if `signal` aborts.
   */
  changed(options?: WaitOptions): Promise<void> {
    const signal = signalOf(options);
    if (signal?.aborted) return failedAtOnce(abortError(signal), PRIMITIVE_OP);
    const s = this.state;
    if (s.version !== this.seen) {
      this.seen = s.version;
      return completedAtOnce(undefined, PRIMITIVE_OP);
    }
    if (this.closedRx) return failedAtOnce(new ChannelClosedError('Watch receiver closed'), PRIMITIVE_OP);
    if (s.senderClosed) return failedAtOnce(new ChannelClosedError('Watch sender closed'), PRIMITIVE_OP);
    return park(s.waiters, new ChangedWaiter<T>(this), signal);
  }

  /** A new receiver with the same seen version. */
  clone(): WatchReceiver<T> {
    const rx = new WatchReceiver(this.state);
    rx.seen = this.seen;
    return rx;
  }

  /** Detaches this receiver; its pending `changed()` calls reject. Idempotent. */
  close(): void {
    if (this.closedRx) return;
    this.closedRx = true;
    this.state.receivers--;
    for (const w of this.state.waiters.drain()) {
      if (w.rx === this) w.reject(new ChannelClosedError('Watch receiver closed'));
      else this.state.waiters.push(w);
    }
  }

  /** Same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Yields the current value, then every newer value seen through `changed()`. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    yield this.borrowAndUpdate();
    for (;;) {
      try {
        await this.changed();
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_CHANNEL_CLOSED') return;
        throw err;
      }
      yield this.borrowAndUpdate();
    }
  }
}

/**
 * A watch channel holding `initial`.
 * @returns `[sender, receiver]`; more receivers come from `sender.subscribe()` or `rx.clone()`.
 */
export function watch<T>(initial: T): [WatchSender<T>, WatchReceiver<T>] {
  const state = new WatchState<T>(initial);
  const tx = new WatchSender(state);
  return [tx, tx.subscribe()];
}
