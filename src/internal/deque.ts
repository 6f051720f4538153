/**
 * A growable ring buffer used as a FIFO queue.
 *
 * Channels, StreamMap and JoinSet queue values at high rates; `Array.prototype.shift` is O(n)
 * on large arrays, so they use this power-of-two ring with a head index instead. Freed slots
 * are cleared so that queued values can be garbage collected.
 * @module
 */

/** FIFO queue on a power-of-two ring buffer. O(1) push and shift. */
export class Deque<T> {
  private buf: (T | undefined)[];
  private head = 0;
  private len = 0;
  private mask: number;

  /** @param initialCapacity - Rounded up to a power of two (minimum 8). */
  constructor(initialCapacity = 8) {
    let cap = 8;
    while (cap < initialCapacity) cap *= 2;
    this.buf = new Array(cap);
    this.mask = cap - 1;
  }

  /** Number of queued items. */
  get length(): number {
    return this.len;
  }

  /** Appends `value` at the tail. */
  push(value: T): void {
    if (this.len === this.buf.length) this.grow();
    this.buf[(this.head + this.len) & this.mask] = value;
    this.len++;
  }

  /** Removes and returns the head, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.len === 0) return undefined;
    const value = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.len--;
    return value;
  }

  /** The head without removing it, or `undefined` when empty. */
  peek(): T | undefined {
    return this.len === 0 ? undefined : this.buf[this.head];
  }

  /** Removes every item. */
  clear(): void {
    this.buf = new Array(8);
    this.mask = 7;
    this.head = 0;
    this.len = 0;
  }

  private grow(): void {
    const old = this.buf;
    const next: (T | undefined)[] = new Array(old.length * 2);
    for (let i = 0; i < this.len; i++) next[i] = old[(this.head + i) & this.mask];
    this.buf = next;
    this.head = 0;
    this.mask = next.length - 1;
  }
}
