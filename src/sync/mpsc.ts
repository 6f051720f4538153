/**
 * Multi-producer, single-consumer channels: tokio's `mpsc::channel` and `unbounded_channel`.
 *
 * The bounded channel is how producers get backpressure in plain JS: `send` waits while the
 * queue holds `capacity` values and resumes, in FIFO order, as the receiver drains it. The
 * queue is a ring buffer; a value sent while the receiver is already waiting is handed to it
 * directly without being queued. The receiver is async-iterable and ends once every sender has
 * been closed and the queue is drained.
 *
 * `send`, `recv`, `closed` and async iteration spend the budget the sync primitives share with
 * UDP's fast path (see `sync/index.ts`): past 1,024 settlements in a row an operation still takes
 * effect at once, but its promise settles after the event loop's next turn, so a loop of them
 * cannot starve timers and I/O.
 * @module
 */

import { Deque } from '../internal/deque';
import { CoopWaiter, WaitList, park } from '../internal/wait-list';
import { completedAtOnce, failedAtOnce, PRIMITIVE_OP } from '../internal/sync-budget';
import { abortError, signalOf } from '../internal/abort';
import { validateInteger } from '../internal/validate';
import { ChannelClosedError } from './errors';

/** Options accepted by waiting channel operations. */
export interface WaitOptions {
  /** Cancels the wait; it then rejects with an `AbortError` and leaves no trace. */
  signal?: AbortSignal;
}

const CLOSED: unique symbol = Symbol('closed');
const EMPTY: unique symbol = Symbol('empty');
type Raw<T> = T | typeof CLOSED;

/**
 * A waiting receive. It is resolved with the caller's form of the value (`recv`'s value or the
 * iterator's result) converted before it settles, so a waiting receive and a later one that
 * completed at once settle in the order they took their values (no extra `.then` step).
 */
class RecvWaiter<T> extends CoopWaiter<unknown> {
  constructor(readonly convert: (v: Raw<T>) => unknown) {
    super();
  }

  /** Hands the receive its value (or CLOSED), converted. */
  deliver(v: Raw<T>): void {
    this.resolve(this.convert(v));
  }
}

class SendWaiter<T> extends CoopWaiter<void> {
  constructor(readonly value: T) {
    super();
  }
}

/** Shared state of one channel. @internal */
class MpscState<T> {
  readonly queue = new Deque<T>();
  senders = 1;
  rxClosed = false;
  readonly recvWaiters = new WaitList<RecvWaiter<T>>();
  readonly sendWaiters = new WaitList<SendWaiter<T>>();
  readonly closedWaiters = new WaitList<CoopWaiter<void>>();

  constructor(readonly capacity: number) {}

  /** Hands `value` to a waiting receiver or queues it if there is room; false when full. */
  offer(value: T): boolean {
    const rx = this.recvWaiters.shift();
    if (rx) {
      rx.deliver(value);
      return true;
    }
    if (this.queue.length < this.capacity && this.sendWaiters.size === 0) {
      this.queue.push(value);
      return true;
    }
    return false;
  }

  /** The next value, CLOSED at the end, or EMPTY when the caller must wait. */
  take(): Raw<T> | typeof EMPTY {
    if (this.queue.length > 0) {
      const v = this.queue.shift() as T;
      const w = this.sendWaiters.shift();
      if (w) {
        this.queue.push(w.value);
        w.resolve();
      }
      return v;
    }
    if (this.senders === 0 || this.rxClosed) return CLOSED;
    return EMPTY;
  }

  /** Waits for a value (or the end), settling with `convert` of it. */
  wait<R>(signal: AbortSignal | undefined, convert: (v: Raw<T>) => R): Promise<R> {
    return park(this.recvWaiters, new RecvWaiter<T>(convert), signal) as Promise<R>;
  }

  closeReceiver(): void {
    if (this.rxClosed) return;
    this.rxClosed = true;
    for (const w of this.sendWaiters.drain()) {
      w.reject(new ChannelClosedError('Channel receiver closed', w.value));
    }
    if (this.queue.length === 0) for (const w of this.recvWaiters.drain()) w.deliver(CLOSED);
    for (const w of this.closedWaiters.drain()) w.resolve();
  }

  dropSender(): void {
    if (--this.senders === 0) {
      for (const w of this.recvWaiters.drain()) w.deliver(CLOSED);
    }
  }
}

function toValue<T>(v: Raw<T>): T | undefined {
  return v === CLOSED ? undefined : v;
}

/** What both sender kinds share: clone, close, and watching for the receiver to go away. */
abstract class SenderBase<T> implements Disposable {
  /** @internal */ protected state: MpscState<T>;
  /** @internal */ protected closedHandle = false;

  /** @internal */
  constructor(state: MpscState<T>) {
    this.state = state;
  }

  /** True once the receiver was closed: every further send fails. */
  get isClosed(): boolean {
    return this.state.rxClosed;
  }

  /**
   * Resolves when the receiver is closed (tokio's `Sender::closed`).
   * @param options - `signal` cancels the wait.
   */
  closed(options?: WaitOptions): Promise<void> {
    const signal = signalOf(options);
    if (signal?.aborted) return failedAtOnce(abortError(signal), PRIMITIVE_OP);
    if (this.state.rxClosed) return completedAtOnce(undefined, PRIMITIVE_OP);
    return park(this.state.closedWaiters, new CoopWaiter<void>(), signal);
  }

  /**
   * Closes this sender handle. The receiver ends once every handle is closed and the queue is
   * drained. Idempotent. Values already sent stay queued.
   */
  close(): void {
    if (this.closedHandle) return;
    this.closedHandle = true;
    this.state.dropSender();
  }

  /** Same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal */
  protected check(value?: T): void {
    if (this.closedHandle) throw new ChannelClosedError('Sender handle closed', value);
    if (this.state.rxClosed) throw new ChannelClosedError('Channel receiver closed', value);
  }

  /** @internal */
  protected cloneState(): MpscState<T> {
    if (this.closedHandle) throw new ChannelClosedError('Sender handle closed');
    this.state.senders++;
    return this.state;
  }
}

/** The sending half of a bounded channel. Clone it for more producers. */
export class Sender<T> extends SenderBase<T> {
  /**
   * Sends `value`, waiting while the channel is full. Waiting senders are served in FIFO order.
   * Rejects with `ChannelClosedError` (code `ERR_CHANNEL_CLOSED`, `.value` = `value`) if the
   * receiver is or becomes closed, or this handle was closed; with `AbortError` if `signal` aborts
   * (the value is then not sent).
   */
  send(value: T, options?: WaitOptions): Promise<void> {
    const signal = signalOf(options);
    try {
      this.check(value);
    } catch (err) {
      return failedAtOnce(err, PRIMITIVE_OP);
    }
    if (signal?.aborted) return failedAtOnce(abortError(signal), PRIMITIVE_OP);
    if (this.state.offer(value)) return completedAtOnce(undefined, PRIMITIVE_OP);
    return park(this.state.sendWaiters, new SendWaiter(value), signal);
  }

  /**
   * Sends `value` if there is room right now. Returns false when the channel is full.
   * Throws `ChannelClosedError` if the receiver or this handle is closed.
   */
  trySend(value: T): boolean {
    this.check(value);
    return this.state.offer(value);
  }

  /** A new sender handle on the same channel (multi-producer). Throws if this one is closed. */
  clone(): Sender<T> {
    return new Sender(this.cloneState());
  }
}

/** The sending half of an unbounded channel: `send` never waits. */
export class UnboundedSender<T> extends SenderBase<T> {
  /** Queues `value`. Throws `ChannelClosedError` if the receiver or this handle is closed. */
  send(value: T): void {
    this.check(value);
    this.state.offer(value);
  }

  /** A new sender handle on the same channel. Throws if this one is closed. */
  clone(): UnboundedSender<T> {
    return new UnboundedSender(this.cloneState());
  }
}

/**
 * The receiving half of a channel. Async-iterable: `for await (const v of rx)` ends when every
 * sender is closed and the queue is drained; breaking out of the loop closes the receiver.
 * `recv()` resolves `undefined` at the end, so do not send `undefined` if you use `recv()`.
 */
export class Receiver<T> implements AsyncIterable<T>, Disposable {
  /** @internal */ private state: MpscState<T>;

  /** @internal */
  constructor(state: MpscState<T>) {
    this.state = state;
  }

  /** Number of values queued. */
  get length(): number {
    return this.state.queue.length;
  }

  /**
   * The next value, waiting for one if needed; `undefined` once every sender is closed and the
   * queue is drained (or the receiver is closed and drained). Rejects with `AbortError` if
   * `signal` aborts; no value is lost by a cancelled receive.
   */
  recv(options?: WaitOptions): Promise<T | undefined> {
    const signal = signalOf(options);
    if (signal?.aborted) return failedAtOnce(abortError(signal), PRIMITIVE_OP);
    const v = this.state.take();
    if (v !== EMPTY) return completedAtOnce(toValue(v), PRIMITIVE_OP);
    return this.state.wait(signal, toValue<T>);
  }

  /** The next value if one is queued, else `undefined` (empty or ended). Never waits. */
  tryRecv(): T | undefined {
    const v = this.state.take();
    return v === EMPTY || v === CLOSED ? undefined : v;
  }

  /**
   * Closes the receiver: pending and future sends reject with `ChannelClosedError`, values
   * already queued can still be received. Idempotent.
   */
  close(): void {
    this.state.closeReceiver();
  }

  /** Same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Iterates the received values; `return()` (e.g. `break`) closes the receiver. */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    const state = this.state;
    const it: AsyncIterableIterator<T> = {
      next(): Promise<IteratorResult<T>> {
        const v = state.take();
        if (v !== EMPTY) return completedAtOnce(toResult(v), PRIMITIVE_OP);
        return state.wait(undefined, toResult<T>);
      },
      return(value?: unknown): Promise<IteratorResult<T>> {
        state.closeReceiver();
        return Promise.resolve({ done: true, value: value as T });
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  }
}

function toResult<T>(v: Raw<T>): IteratorResult<T> {
  return v === CLOSED ? { done: true, value: undefined } : { done: false, value: v };
}

/**
 * A bounded multi-producer, single-consumer channel holding at most `capacity` queued values.
 * @param capacity - Integer >= 1.
 * @returns `[sender, receiver]`.
 */
export function channel<T>(capacity: number): [Sender<T>, Receiver<T>] {
  validateInteger(capacity, 'capacity', 1);
  const state = new MpscState<T>(capacity);
  return [new Sender(state), new Receiver(state)];
}

/**
 * An unbounded multi-producer, single-consumer channel: sends never wait (and never apply
 * backpressure, so memory grows with the backlog).
 * @returns `[sender, receiver]`.
 */
export function unboundedChannel<T>(): [UnboundedSender<T>, Receiver<T>] {
  const state = new MpscState<T>(Infinity);
  return [new UnboundedSender(state), new Receiver(state)];
}
