/**
 * A multi-producer, multi-consumer channel where every receiver sees every value: tokio's
 * `broadcast`.
 *
 * Values live in one ring of `capacity` slots indexed by a global sequence number; each
 * receiver only keeps its next sequence number. Senders never wait: a receiver that falls more
 * than `capacity` values behind loses the oldest ones and learns how many through a
 * `LaggedError`, then continues from the oldest value still retained. This is what makes a
 * chat room or a pub/sub fan-out safe against one slow consumer.
 *
 * `recv` and async iteration spend the budget the sync primitives share with UDP's fast path
 * (see `sync/index.ts`): past 1,024 settlements in a row an operation still takes effect at once,
 * but its promise settles after the event loop's next turn, so a loop of them cannot starve timers
 * and I/O.
 * @module
 */

import { CoopWaiter, WaitList, park } from '../internal/wait-list';
import { completedAtOnce, failedAtOnce, PRIMITIVE_OP } from '../internal/sync-budget';
import { abortError, signalOf } from '../internal/abort';
import { validateInteger } from '../internal/validate';
import { ChannelClosedError, LaggedError } from './errors';
import type { WaitOptions } from './mpsc';

const CLOSED: unique symbol = Symbol('closed');
const EMPTY: unique symbol = Symbol('empty');
type Raw<T> = T | typeof CLOSED;

class RecvWaiter<T> extends CoopWaiter<Raw<T>> {
  constructor(readonly rx: BroadcastReceiver<T>) {
    super();
  }
}

/** @internal */
class BroadcastState<T> {
  readonly ring: (T | undefined)[];
  /** Sequence number the next sent value gets. */
  tail = 0;
  senders = 1;
  receivers = 0;
  readonly waiters = new WaitList<RecvWaiter<T>>();

  constructor(readonly capacity: number) {
    this.ring = new Array(capacity);
  }

  /** Reads at `rx`'s position: a value, CLOSED, EMPTY, or throws LaggedError. */
  read(rx: BroadcastReceiver<T>): Raw<T> | typeof EMPTY {
    const oldest = this.tail > this.capacity ? this.tail - this.capacity : 0;
    if (rx.pos < oldest) {
      const skipped = oldest - rx.pos;
      rx.pos = oldest;
      throw new LaggedError(skipped);
    }
    if (rx.pos < this.tail) {
      const v = this.ring[rx.pos % this.capacity] as T;
      rx.pos++;
      return v;
    }
    return this.senders === 0 || rx.closedRx ? CLOSED : EMPTY;
  }

  send(value: T): number {
    this.ring[this.tail % this.capacity] = value;
    this.tail++;
    const ws = this.waiters.drain();
    for (const w of ws) this.serve(w);
    return this.receivers;
  }

  serve(w: RecvWaiter<T>): void {
    let v: Raw<T> | typeof EMPTY;
    try {
      v = this.read(w.rx);
    } catch (err) {
      w.reject(err);
      return;
    }
    if (v === EMPTY) this.waiters.push(w);
    else w.resolve(v);
  }

  dropSender(): void {
    if (--this.senders === 0) for (const w of this.waiters.drain()) w.resolve(CLOSED);
  }
}

/** The sending half of a broadcast channel. Clone it for more producers. */
export class BroadcastSender<T> implements Disposable {
  /** @internal */ private state: BroadcastState<T>;
  /** @internal */ private closedHandle = false;

  /** @internal */
  constructor(state: BroadcastState<T>) {
    this.state = state;
  }

  /** Number of open receivers. */
  get receiverCount(): number {
    return this.state.receivers;
  }

  /**
   * Sends `value` to every current receiver and returns how many there are. Never waits.
   * Unlike tokio, sending with no receivers is not an error: it returns 0 and the value is only
   * kept in the ring (receivers subscribed later do not see it).
   * Throws `ChannelClosedError` if this handle was closed.
   */
  send(value: T): number {
    if (this.closedHandle) throw new ChannelClosedError('Sender handle closed', value);
    return this.state.send(value);
  }

  /** A new receiver that sees every value sent from now on. */
  subscribe(): BroadcastReceiver<T> {
    return new BroadcastReceiver(this.state, this.state.tail);
  }

  /** A new sender handle. Throws `ChannelClosedError` if this one is closed. */
  clone(): BroadcastSender<T> {
    if (this.closedHandle) throw new ChannelClosedError('Sender handle closed');
    this.state.senders++;
    return new BroadcastSender(this.state);
  }

  /** Closes this handle; receivers end once every sender is closed and they have read all. */
  close(): void {
    if (this.closedHandle) return;
    this.closedHandle = true;
    this.state.dropSender();
  }

  /** Same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * One subscriber of a broadcast channel. Async-iterable; a `LaggedError` thrown from the
 * iteration ends that `for await` loop, and a new loop (or `recv()`) continues from the
 * oldest retained value. `break` closes the receiver.
 */
export class BroadcastReceiver<T> implements AsyncIterable<T>, Disposable {
  /** @internal */ private state: BroadcastState<T>;
  /** @internal */ pos: number;
  /** @internal */ closedRx = false;

  /** @internal */
  constructor(state: BroadcastState<T>, pos: number) {
    this.state = state;
    this.pos = pos;
    state.receivers++;
  }

  /** Number of values sent that this receiver has not read yet (including ones it lost). */
  get length(): number {
    return this.state.tail - this.pos;
  }

  /**
   * The next value; waits if none. Resolves `undefined` once every sender is closed and every
   * retained value was read (or this receiver is closed). Rejects with `LaggedError` (`.skipped`)
   * if values were lost; the next call continues from the oldest retained value. Rejects with
   * `AbortError` if `signal` aborts.
   */
  recv(options?: WaitOptions): Promise<T | undefined> {
    return this.recvRaw(signalOf(options)).then(toValue);
  }

  /** The next value if one is ready, else `undefined`. Throws `LaggedError` like `recv`. */
  tryRecv(): T | undefined {
    const v = this.state.read(this);
    return v === EMPTY || v === CLOSED ? undefined : v;
  }

  /** A new receiver at the same position as this one. */
  resubscribe(): BroadcastReceiver<T> {
    return new BroadcastReceiver(this.state, this.pos);
  }

  /** Unsubscribes; pending receives resolve `undefined`. Idempotent. */
  close(): void {
    if (this.closedRx) return;
    this.closedRx = true;
    this.state.receivers--;
    for (const w of this.state.waiters.drain()) {
      if (w.rx === this) w.resolve(CLOSED);
      else this.state.waiters.push(w);
    }
  }

  /** Same as {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Iterates received values. */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    const it: AsyncIterableIterator<T> = {
      next: () => this.recvRaw(undefined).then(toResult),
      return: (value?: unknown) => {
        this.close();
        return Promise.resolve({ done: true, value: value as T });
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  /** @internal */
  private recvRaw(signal: AbortSignal | undefined): Promise<Raw<T>> {
    if (signal?.aborted) return failedAtOnce(abortError(signal), PRIMITIVE_OP);
    let v: Raw<T> | typeof EMPTY;
    try {
      v = this.state.read(this);
    } catch (err) {
      return failedAtOnce(err, PRIMITIVE_OP);
    }
    if (v !== EMPTY) return completedAtOnce(v, PRIMITIVE_OP);
    return park(this.state.waiters, new RecvWaiter<T>(this), signal);
  }
}

function toValue<T>(v: Raw<T>): T | undefined {
  return v === CLOSED ? undefined : v;
}

function toResult<T>(v: Raw<T>): IteratorResult<T> {
  return v === CLOSED ? { done: true, value: undefined } : { done: false, value: v };
}

/** The largest broadcast `capacity`: the longest JS array (the ring is one array). */
const MAX_BROADCAST_CAPACITY = 2 ** 32 - 1;

/**
 * A broadcast channel retaining the last `capacity` values.
 * @param capacity - Integer from 1 to 2^32 - 1 (a `RangeError` `ERR_OUT_OF_RANGE` otherwise).
 * @returns `[sender, receiver]`; more receivers come from `sender.subscribe()`.
 */
export function broadcast<T>(capacity: number): [BroadcastSender<T>, BroadcastReceiver<T>] {
  validateInteger(capacity, 'capacity', 1, MAX_BROADCAST_CAPACITY);
  const state = new BroadcastState<T>(capacity);
  const tx = new BroadcastSender(state);
  return [tx, tx.subscribe()];
}
