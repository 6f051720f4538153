/**
 * `UdpSocket`: datagrams on corio's runtime, one at a time or in batches.
 *
 * Every call first tries the system call at once on the JS thread (a datagram already queued,
 * room in the send buffer) and only when the socket would block starts a native operation
 * that waits on the runtime. Concurrent receivers are served in call order and each datagram
 * reaches exactly one of them: the fast path stays off while any receive waits, and waiting
 * receives queue natively in call order (the binding's receive lock, held while a receive
 * waits for its datagram). Sends leave in call order, as with node:dgram, the same way: the
 * fast path stays off while any send waits, and waiting sends queue natively in call order
 * (the binding's send lock). `connect()` takes its place among the sends the same way, so
 * sends called before it leave before it and sends called after it wait for it.
 * Batches (`recvMany`/`sendMany`) move many datagrams per system call (`recvmmsg`/`sendmmsg` on
 * Linux) and per JS/native crossing.
 *
 * @module
 */

import {
  ERR_SOCKET_CLOSED,
  fromNative,
  invalidArgType,
  invalidArgValue,
  outOfRange,
  signalOf,
  socketClosedError,
  validateBoolean,
  validateInteger,
  validateObject,
  validateUint8Array,
} from '../errors';
import { completedAtOnce, failedAtOnce, inCallOrder, SOCKET_CALL } from '../internal/sync-budget';
import { cancellable } from '../io/op';
import type { AbortOptions } from '../io/traits';
import { AddressInput, DEFAULT_HOST, HostPort, parseAddress, SocketAddress } from '../net/addr';
import { NativeUdpBindOptions, NativeUdpSocket, newNativeUdpSocket } from './native';

/** Options for {@link UdpSocket.bind}. */
export interface UdpBindOptions extends AbortOptions {
  /** `SO_REUSEADDR`: allow binding an address still in use (e.g. several multicast listeners). Default `false`. */
  reuseAddress?: boolean;
  /** `SO_REUSEPORT`: several sockets share the port (`bind` rejects with `ENOTSUP` where the OS lacks it). Default `false`. */
  reusePort?: boolean;
  /** `SO_BROADCAST`: allow sending to broadcast addresses. Default `false`. */
  broadcast?: boolean;
  /** `IPV6_V6ONLY` for an IPv6 socket (`true`: no IPv4-mapped traffic). Default: the OS's. */
  ipv6Only?: boolean;
  /** `SO_RCVBUF` in bytes (the OS may round or double it). Default: the OS's. */
  recvBufferSize?: number;
  /** `SO_SNDBUF` in bytes (the OS may round or double it). Default: the OS's. */
  sendBufferSize?: number;
}

/** A received datagram: its bytes and its sender. */
export interface Datagram {
  /** The payload. From {@link UdpSocket.recvMany} it is a view into one buffer shared by the batch. */
  data: Uint8Array;
  /** The sender's IP address (IPv6 without brackets). */
  address: string;
  /** The sender's port. */
  port: number;
  /** The sender's address family. */
  family: 'IPv4' | 'IPv6';
}

/** What {@link UdpSocket.recvFrom} resolves: how many bytes went into the buffer, and the sender. */
export interface RecvFromResult {
  /** Bytes written into the caller's buffer (a longer datagram is truncated to the buffer). */
  bytes: number;
  /** The sender's IP address (IPv6 without brackets). */
  address: string;
  /** The sender's port. */
  port: number;
  /** The sender's address family. */
  family: 'IPv4' | 'IPv6';
}

/** One datagram to send with {@link UdpSocket.sendMany}. */
export interface OutgoingDatagram {
  /** The payload (a string is sent as UTF-8). */
  data: Uint8Array | string;
  /**
   * Destination IP address or host name. Omit both `address` and `port` on a connected socket
   * to send to its peer; with only `port`, the address is `"127.0.0.1"`.
   */
  address?: string;
  /** Destination port, 1 to 65535. */
  port?: number;
}

/** The largest datagram a receive slot holds (any UDP payload fits). */
const MAX_DATAGRAM = 65_536;
/** The largest `recvMany` batch. */
const MAX_BATCH = 1024;
/** Default `recvMany` batch size. */
const DEFAULT_BATCH = 64;

/** `recv`'s mapping of a `recvFrom` result, made once instead of per call. */
const bytesOf = (r: RecvFromResult): number => r.bytes;
/** `recvFrom`'s: the result itself. */
const sameResult = (r: RecvFromResult): RecvFromResult => r;

const encoder = new TextEncoder();
const toBytes = (data: Uint8Array | string, name: string): Uint8Array => {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return encoder.encode(data);
  throw invalidArgType(name, 'an instance of Uint8Array or Buffer, or of type string', data);
};

/**
 * A UDP socket.
 *
 * Create one with {@link UdpSocket.bind}. Every method may be called concurrently: many
 * `recvFrom`/`recv`/`recvMany` calls may wait at once (served in call order; each datagram
 * goes to exactly one of them), and sends never wait for receives. Pending calls keep the
 * Node process alive unless the socket is {@link UdpSocket.unref | unref}'d; an idle socket
 * does not.
 *
 * @example
 * ```ts
 * await using sock = await UdpSocket.bind('127.0.0.1:0');
 * await sock.sendTo('ping', '127.0.0.1:9999');
 * const buf = new Uint8Array(1500);
 * const { bytes, address, port } = await sock.recvFrom(buf);
 * ```
 */
export class UdpSocket implements AsyncIterable<Datagram>, AsyncDisposable {
  readonly #h: NativeUdpSocket;
  #closed = false;
  /** A `connect()` resolved (the socket has a peer). */
  #connected = false;
  /**
   * `connect()` calls still pending: while any is, address-less datagrams are accepted (they
   * leave after the connect, to its peer), as if the socket were connected.
   */
  #connecting = 0;
  #local: SocketAddress | undefined;
  #peer: SocketAddress | undefined;
  /**
   * Native receive operations in flight: while any waits, later receives skip the fast path and
   * queue behind it natively (the binding takes each receive's place in its receive lock at
   * call time).
   */
  #waitingRecvs = 0;
  /**
   * Native send operations in flight, and pending `connect()` calls (which queue in the send
   * lock like a send): while any waits, later sends skip the fast path and queue behind it
   * natively (the binding takes each one's place in its send lock at call time).
   */
  #waitingSends = 0;
  /** The last `sendTo` address argument and its parsed form (sending to one peer repeatedly). */
  #lastAddrIn: unknown;
  #lastAddr: HostPort | undefined;
  /** Address strings of the last datagram decoded from a batch (reused when the sender repeats). */
  #lastIp = new Uint8Array(17);
  #lastIpText = '';
  /** Sender scratch of `tryRecvFromInto` (layout in `./native.ts`), and its last address string. */
  readonly #info = Buffer.alloc(64);
  #fromText = '';

  private constructor(handle: NativeUdpSocket) {
    this.#h = handle;
  }

  /**
   * Creates a UDP socket bound to `addr`.
   *
   * @param addr - `"host:port"`, `"[ipv6]:port"` or `{ host = "127.0.0.1", port }`; port `0`
   *   lets the OS pick one (read it from {@link UdpSocket.localAddr}). Host names are resolved
   *   off the JS thread (first address wins).
   * @param opts - socket options set before binding, and `signal` to cancel the bind
   * @returns the bound socket
   * @throws TypeError/RangeError (synchronously) for a bad argument
   * @throws (rejects) `EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`, ... with `syscall`, `address`,
   *   `port`; `AbortError` when aborted
   */
  static bind(addr: AddressInput, opts?: UdpBindOptions): Promise<UdpSocket> {
    const { host, port } = parseAddress(addr, 'addr', true);
    const signal = signalOf(opts, 'opts');
    let nativeOpts: NativeUdpBindOptions | undefined;
    if (opts !== undefined) {
      nativeOpts = {};
      for (const key of ['reuseAddress', 'reusePort', 'broadcast', 'ipv6Only'] as const) {
        const v = opts[key];
        if (v !== undefined) {
          validateBoolean(v, `opts.${key}`);
          nativeOpts[key] = v;
        }
      }
      for (const key of ['recvBufferSize', 'sendBufferSize'] as const) {
        const v = opts[key];
        if (v !== undefined) {
          validateInteger(v, `opts.${key}`, 1, 2_147_483_647);
          nativeOpts[key] = v;
        }
      }
    }
    const h = newNativeUdpSocket();
    const start = (opId: number): Promise<void> => h.bind(host, port, nativeOpts, opId);
    const pending = signal === undefined ? start(0) : cancellable(signal, start);
    return pending.then(
      () => new UdpSocket(h),
      (err: unknown) => {
        h.close();
        throw fromNative(err, 'bind', host, port);
      },
    );
  }

  /**
   * Sends one datagram to `addr`.
   *
   * Sends keep call order with the socket's other sends and with {@link UdpSocket.connect}:
   * a `sendTo` called before a `connect()` leaves before the socket is connected.
   *
   * @param data - the payload (a string is sent as UTF-8); copied at call time
   * @param addr - destination: `"host:port"`, `"[ipv6]:port"`, `{ host, port }` or a
   *   {@link Datagram}/{@link SocketAddress} (to reply to a sender)
   * @returns the number of bytes sent
   * @throws TypeError/RangeError (synchronously) for a bad argument
   * @throws (rejects) `EMSGSIZE` when `data` is larger than a datagram may be (65,507 bytes on
   *   IPv4), `ERR_SOCKET_CLOSED`, `ENOTFOUND`, `EISCONN` on BSD/macOS when the socket is
   *   connected, other OS errors with `address`/`port`
   */
  sendTo(data: Uint8Array | string, addr: AddressInput | Datagram): Promise<number> {
    const bytes = toBytes(data, 'data');
    let a: HostPort;
    if (typeof addr === 'string' && addr === this.#lastAddrIn && this.#lastAddr !== undefined) {
      a = this.#lastAddr;
    } else {
      a = parseAddress(addr, 'addr', false);
      this.#lastAddrIn = typeof addr === 'string' ? addr : undefined;
      this.#lastAddr = a;
    }
    if (this.#closed) return Promise.reject(socketClosedError('send'));
    const h = this.#h;
    if (this.#waitingSends === 0) {
      try {
        const n = h.trySendTo(bytes, a.host, a.port);
        if (n >= 0) return completedAtOnce(n, SOCKET_CALL);
      } catch (err) {
        return failedAtOnce(fromNative(err, 'send', a.host, a.port), SOCKET_CALL);
      }
    }
    this.#waitingSends++;
    return inCallOrder(h.sendTo(bytes, a.host, a.port, 0).then(
      (n) => {
        this.#waitingSends--;
        return n;
      },
      (err: unknown) => {
        this.#waitingSends--;
        throw fromNative(err, 'send', a.host, a.port);
      },
    ));
  }

  /**
   * Sends one datagram to the connected peer (see {@link UdpSocket.connect}). It may be
   * called right after `connect()`, without awaiting it: it then leaves once the socket is
   * connected, to the new peer (and fails if the connect fails).
   *
   * @param data - the payload (a string is sent as UTF-8); copied at call time
   * @returns the number of bytes sent
   * @throws (rejects) `EDESTADDRREQ`/`ENOTCONN` when not connected (nor connecting), `EMSGSIZE`,
   *   `ECONNREFUSED` (the peer's port was closed; reported by a later call), `ERR_SOCKET_CLOSED`
   */
  send(data: Uint8Array | string): Promise<number> {
    const bytes = toBytes(data, 'data');
    if (this.#closed) return Promise.reject(socketClosedError('send'));
    const h = this.#h;
    if (this.#waitingSends === 0) {
      try {
        const n = h.trySend(bytes);
        if (n >= 0) return completedAtOnce(n, SOCKET_CALL);
      } catch (err) {
        return failedAtOnce(fromNative(err, 'send'), SOCKET_CALL);
      }
    }
    this.#waitingSends++;
    return inCallOrder(h.send(bytes, 0).then(
      (n) => {
        this.#waitingSends--;
        return n;
      },
      (err: unknown) => {
        this.#waitingSends--;
        throw fromNative(err, 'send');
      },
    ));
  }

  /**
   * Receives one datagram into `buf`.
   *
   * Resolves as soon as a datagram is there. A datagram longer than `buf` is truncated to it
   * (the rest is discarded, as with `recvfrom(2)`); only the first 65,536 bytes of `buf` are
   * used. Concurrent calls are served in call order, each with its own datagram.
   *
   * @param buf - where to put the payload
   * @param opts - `signal` cancels the wait (no datagram is consumed afterwards)
   * @returns bytes written into `buf` and the sender's address
   * @throws (rejects) `ERR_SOCKET_CLOSED` if the socket is or gets closed; `AbortError`;
   *   `ECONNREFUSED` on a connected socket whose peer is gone
   */
  recvFrom(buf: Uint8Array, opts?: AbortOptions): Promise<RecvFromResult> {
    return this.#receive(buf, opts, sameResult);
  }

  /**
   * Receives one datagram from the connected peer into `buf` (see {@link UdpSocket.recvFrom}).
   *
   * @returns the number of bytes written into `buf`
   */
  recv(buf: Uint8Array, opts?: AbortOptions): Promise<number> {
    return this.#receive(buf, opts, bytesOf);
  }

  /**
   * `recvFrom`, with the result shaped by `shape` before its promise settles (no `.then` after
   * it), so `recv` and `recvFrom` calls settle in the order they were served.
   */
  #receive<R>(buf: Uint8Array, opts: AbortOptions | undefined, shape: (r: RecvFromResult) => R): Promise<R> {
    validateUint8Array(buf, 'buf');
    const signal = opts === undefined ? undefined : signalOf(opts, 'opts');
    if (this.#closed) return Promise.reject(socketClosedError('recv'));
    if (signal?.aborted) return cancellable(signal, () => Promise.resolve(undefined as never));
    const h = this.#h;
    if (this.#waitingRecvs === 0) {
      let n: number;
      try {
        n = h.tryRecvFromInto(buf, this.#info);
      } catch (err) {
        return failedAtOnce(fromNative(err, 'recv'), SOCKET_CALL);
      }
      if (n >= 0) {
        const info = this.#info;
        const textLen = info[3];
        if (textLen !== 0) this.#fromText = info.toString('latin1', 4, 4 + textLen);
        const r: RecvFromResult = {
          bytes: n,
          address: this.#fromText,
          port: info[0] | (info[1] << 8),
          family: info[2] === 4 ? 'IPv4' : 'IPv6',
        };
        return completedAtOnce(shape(r), SOCKET_CALL);
      }
    }
    this.#waitingRecvs++;
    const size = Math.min(buf.byteLength, MAX_DATAGRAM);
    const start = (opId: number): Promise<number> => h.recvFrom(size, opId);
    const pending = signal === undefined ? start(0) : cancellable(signal, start);
    return inCallOrder(pending.then(
      (ticket): R => {
        this.#waitingRecvs--;
        return shape(h.takeRecv(ticket, buf));
      },
      (err: unknown) => {
        this.#waitingRecvs--;
        throw fromNative(err, 'recv');
      },
    ));
  }

  /**
   * Receives every datagram already queued, up to `max`, in one call (`recvmmsg` on Linux);
   * waits only while none is queued. On Linux the first call switches on coalesced receives
   * (`UDP_GRO`): runs of datagrams cross the kernel as one buffer, which is split back into
   * the datagrams sent; datagrams of a run beyond `max` are kept for the next receive of any
   * kind, so boundaries and order are preserved. Concurrent receives of every kind are served
   * in call order: a waiting `recvMany` gets the next batch only after the receives called
   * before it got theirs.
   *
   * @param max - the most datagrams to return, 1 to 1024 (default 64)
   * @param opts - `signal` cancels the wait
   * @returns 1 to `max` datagrams in arrival order; their `data` are views into one buffer
   * @throws (rejects) `ERR_SOCKET_CLOSED`, `AbortError`, OS errors
   */
  recvMany(max: number = DEFAULT_BATCH, opts?: AbortOptions): Promise<Datagram[]> {
    validateInteger(max, 'max', 1, MAX_BATCH);
    const signal = opts === undefined ? undefined : signalOf(opts, 'opts');
    if (this.#closed) return Promise.reject(socketClosedError('recv'));
    if (signal?.aborted) return cancellable(signal, () => Promise.resolve(undefined as never));
    const h = this.#h;
    if (this.#waitingRecvs === 0) {
      try {
        const b = h.tryRecvMany(max);
        if (b !== null) return completedAtOnce(this.#unpack(b), SOCKET_CALL);
      } catch (err) {
        return failedAtOnce(fromNative(err, 'recv'), SOCKET_CALL);
      }
    }
    this.#waitingRecvs++;
    const start = (opId: number): Promise<number> => h.recvMany(max, opId);
    const pending = signal === undefined ? start(0) : cancellable(signal, start);
    return inCallOrder(pending.then(
      (ticket) => {
        this.#waitingRecvs--;
        return this.#unpack(h.takeMany(ticket));
      },
      (err: unknown) => {
        this.#waitingRecvs--;
        throw fromNative(err, 'recv');
      },
    ));
  }

  /**
   * Sends a batch of datagrams (`sendmmsg` on Linux), waiting for room in the send buffer as
   * needed. Payloads are copied at call time. On Linux, runs of consecutive datagrams to one
   * destination with one size go to the kernel as one segmented send (`UDP_SEGMENT`); every
   * receiver still gets the individual datagrams.
   *
   * @param datagrams - `{ data, address?, port? }` each; omit the address on a connected
   *   socket to send to its peer (also while a `connect()` is pending: the batch then leaves
   *   after it, to the new peer, and fails if the connect fails)
   * @returns how many datagrams were sent: all of them, unless an error stopped the batch after
   *   some were sent (sending the rest again reports that error)
   * @throws TypeError/RangeError (synchronously) for a bad argument, e.g. a datagram without
   *   an address on a socket neither connected nor connecting
   * @throws (rejects) the error of the first datagram (`EMSGSIZE`, ...), `ERR_SOCKET_CLOSED`
   */
  sendMany(datagrams: readonly OutgoingDatagram[]): Promise<number> {
    if (!Array.isArray(datagrams)) throw invalidArgType('datagrams', 'an instance of Array', datagrams);
    const n = datagrams.length;
    const payloads: Uint8Array[] = new Array<Uint8Array>(n);
    const meta = new Uint8Array(n * 8);
    const hosts: string[] = [];
    const hostIndex = new Map<string, number>();
    let total = 0;
    let lastHost: string | undefined;
    let lastHi = 0;
    for (let i = 0; i < n; i++) {
      const d: OutgoingDatagram = datagrams[i];
      // Argument names are built only for an error (a template string per datagram showed up
      // in the batch profile).
      if (typeof d !== 'object' || d === null || Array.isArray(d)) validateObject(d as unknown, `datagrams[${i}]`);
      const data = d.data;
      const bytes = data instanceof Uint8Array ? data : toBytes(data, `datagrams[${i}].data`);
      let host: string;
      let port: number;
      if (d.address === undefined && d.port === undefined) {
        if (!this.#connected && this.#connecting === 0) {
          throw invalidArgValue(`datagrams[${i}].address`, d.address, 'is required on a socket that is not connected');
        }
        host = '';
        port = 0;
      } else {
        if (d.address !== undefined && typeof d.address !== 'string') {
          throw invalidArgType(`datagrams[${i}].address`, 'of type string', d.address);
        }
        host = d.address ?? DEFAULT_HOST;
        if (host.length === 0) throw invalidArgValue(`datagrams[${i}].address`, host, 'must not be empty');
        if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
        if (typeof d.port !== 'number') throw invalidArgType(`datagrams[${i}].port`, 'of type number', d.port);
        if (!Number.isInteger(d.port) || d.port < 1 || d.port > 65535) {
          throw outOfRange(`datagrams[${i}].port`, 'an integer >= 1 && <= 65535', d.port);
        }
        port = d.port;
      }
      let hi: number | undefined = host === lastHost ? lastHi : hostIndex.get(host);
      if (hi === undefined) {
        // Checked once per distinct host: a NUL would cut the name short in getaddrinfo.
        if (host.includes('\0')) throw invalidArgValue(`datagrams[${i}].address`, d.address, 'must not contain null bytes');
        hi = hosts.length;
        if (hi > 0xffff) throw outOfRange('datagrams', 'at most 65536 distinct addresses', hi + 1);
        hosts.push(host);
        hostIndex.set(host, hi);
      }
      lastHost = host;
      lastHi = hi;
      payloads[i] = bytes;
      const len = bytes.byteLength;
      const o = i * 8;
      meta[o] = len & 0xff;
      meta[o + 1] = (len >>> 8) & 0xff;
      meta[o + 2] = (len >>> 16) & 0xff;
      meta[o + 3] = (len >>> 24) & 0xff;
      meta[o + 4] = port & 0xff;
      meta[o + 5] = port >>> 8;
      meta[o + 6] = hi & 0xff;
      meta[o + 7] = hi >>> 8;
      total += len;
    }
    if (this.#closed) return Promise.reject(socketClosedError('send'));
    if (n === 0) return Promise.resolve(0);
    let payload: Uint8Array;
    if (n === 1) {
      payload = payloads[0];
    } else {
      payload = Buffer.allocUnsafe(total);
      let off = 0;
      for (let i = 0; i < n; i++) {
        payload.set(payloads[i], off);
        off += payloads[i].byteLength;
      }
    }
    const h = this.#h;
    let sent = 0;
    if (this.#waitingSends === 0) {
      try {
        const k = h.trySendMany(payload, meta, hosts, 0);
        if (k >= 0) sent = k;
      } catch (err) {
        return failedAtOnce(fromNative(err, 'send'), SOCKET_CALL);
      }
      if (sent === n) return completedAtOnce(n, SOCKET_CALL);
    }
    this.#waitingSends++;
    return inCallOrder(h.sendMany(payload, meta, hosts, sent, 0).then(
      (k) => {
        this.#waitingSends--;
        return sent + k;
      },
      (err: unknown) => {
        this.#waitingSends--;
        if (sent > 0) return sent;
        throw fromNative(err, 'send');
      },
    ));
  }

  /**
   * Connects the socket to `addr`: {@link UdpSocket.send}/{@link UdpSocket.recv} then use it,
   * and the OS drops datagrams from anyone else. No packet is sent.
   *
   * The connect keeps call order with the socket's sends, as node:dgram queues the sends
   * issued while it connects: sends called before `connect()` leave first, to their own
   * address; sends called after it — awaited or not — leave once it is done, so
   * `sock.connect(addr); sock.send(data)` sends to the new peer. While a connect is pending,
   * `send` and address-less `sendMany` datagrams are accepted as on a connected socket; if
   * the connect fails, they fail too (`EDESTADDRREQ`/`ENOTCONN` on a socket that had no
   * peer), and the socket stays as it was. Receives are not ordered against `connect()`: a
   * receive already waiting keeps waiting and does not hold the connect up, and the OS filter
   * applies to datagrams that arrive after the connect took effect (datagrams queued before
   * it may still be from anyone) — await the connect before receiving to rely on the filter.
   *
   * @param addr - `"host:port"`, `"[ipv6]:port"` or `{ host = "127.0.0.1", port }`
   * @param opts - `signal` cancels the connect (host resolution, or its wait behind earlier
   *   sends)
   * @throws (rejects) `ENOTFOUND`, `EINVAL`, `ERR_SOCKET_CLOSED`, `AbortError`
   */
  connect(addr: AddressInput, opts?: AbortOptions): Promise<void> {
    const { host, port } = parseAddress(addr, 'addr', false);
    const signal = signalOf(opts, 'opts');
    if (this.#closed) return Promise.reject(socketClosedError('connect'));
    const h = this.#h;
    const start = (opId: number): Promise<void> => h.connect(host, port, opId);
    const pending = signal === undefined ? start(0) : cancellable(signal, start);
    // Counted as a waiting send until it settles: the fast path must not overtake it.
    this.#waitingSends++;
    this.#connecting++;
    return inCallOrder(pending.then(
      () => {
        this.#waitingSends--;
        this.#connecting--;
        this.#connected = true;
        this.#peer = undefined;
        // A socket bound to a wildcard address gets a concrete local address from the
        // connect (the route's source address), as getsockname and node:dgram report. Read
        // now, so the address stays readable after a later close() like before the connect.
        this.#local = undefined;
        try {
          void this.localAddr;
        } catch {
          // closed meanwhile: the getter reports that when read
        }
      },
      (err: unknown) => {
        this.#waitingSends--;
        this.#connecting--;
        throw fromNative(err, 'connect', host, port);
      },
    ));
  }

  /** Sets `SO_BROADCAST`: whether datagrams may be sent to broadcast addresses. */
  setBroadcast(on: boolean): void {
    validateBoolean(on, 'on');
    this.#live('setsockopt').setBroadcast(on);
  }

  /** Sets the time-to-live (hop limit on IPv6) of outgoing unicast datagrams, 1 to 255. */
  setTtl(ttl: number): void {
    validateInteger(ttl, 'ttl', 1, 255);
    this.#live('setsockopt').setTtl(ttl);
  }

  /** Sets the time-to-live (hop limit on IPv6) of outgoing multicast datagrams, 0 to 255. */
  setMulticastTtl(ttl: number): void {
    validateInteger(ttl, 'ttl', 0, 255);
    this.#live('setsockopt').setMulticastTtl(ttl);
  }

  /** Sets whether multicast datagrams sent by this host loop back to its own sockets. */
  setMulticastLoopback(on: boolean): void {
    validateBoolean(on, 'on');
    this.#live('setsockopt').setMulticastLoopback(on);
  }

  /**
   * Joins the multicast group `group`.
   *
   * @param group - a multicast IP address (`224.0.0.0/4` or `ff00::/8`)
   * @param iface - IPv4: the local interface address (default: any, the OS chooses); IPv6:
   *   the interface index (default 0, the OS chooses)
   * @throws `EADDRINUSE`, `ENODEV`, `EINVAL`, ... with `syscall: 'addMembership'`
   */
  joinMulticast(group: string, iface?: string | number): void {
    const [g, i] = membershipArgs(group, iface);
    this.#live('addMembership').joinMulticast(g, i);
  }

  /** Leaves the multicast group `group` (arguments as for {@link UdpSocket.joinMulticast}). */
  leaveMulticast(group: string, iface?: string | number): void {
    const [g, i] = membershipArgs(group, iface);
    this.#live('dropMembership').leaveMulticast(g, i);
  }

  /**
   * The address the socket is bound to (the actual port when bound to port 0). After a
   * `connect()`, a socket bound to a wildcard address (`0.0.0.0`, `::`) reports the local
   * address the connect chose, as `getsockname(2)` and node:dgram do.
   * @throws `ERR_SOCKET_CLOSED` when first read after the socket was closed
   */
  get localAddr(): SocketAddress {
    if (this.#local === undefined) {
      const a = this.#live('getsockname').localAddr();
      this.#local = Object.freeze({ address: a.address, port: a.port, family: a.family });
    }
    return this.#local;
  }

  /**
   * The connected peer's address.
   * @throws `ENOTCONN` when not connected; `ERR_SOCKET_CLOSED` after close
   */
  get peerAddr(): SocketAddress {
    if (this.#peer === undefined) {
      const a = this.#live('getpeername').peerAddr();
      this.#peer = Object.freeze({ address: a.address, port: a.port, family: a.family });
    }
    return this.#peer;
  }

  /**
   * Closes the socket and releases it at once. Pending calls reject with `ERR_SOCKET_CLOSED`;
   * a `for await` loop over the socket ends. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#h.close();
  }

  /** Whether {@link UdpSocket.close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Lets pending calls on this socket keep the Node event loop alive (the default). */
  ref(): this {
    if (!this.#closed) this.#h.ref();
    return this;
  }

  /** Lets the process exit while calls on this socket are pending, as `dgram.Socket#unref` does. */
  unref(): this {
    if (!this.#closed) this.#h.unref();
    return this;
  }

  /**
   * Yields datagrams as they arrive (received in batches with {@link UdpSocket.recvMany}). The
   * loop ends when the socket is closed; leaving it (`break`, `return`, an exception) closes
   * the socket. The iterator's `return()`/`throw()` close the socket at once, also while a
   * `next()` waits for a datagram (that `next()` then ends the iteration) or before the first
   * `next()`: a holder of the iterator (a `StreamMap` ending its members) ends the socket
   * without waiting for a datagram that may never come.
   */
  [Symbol.asyncIterator](): AsyncGenerator<Datagram, void, undefined> {
    const gen = this.#datagrams();
    // An async generator queues return()/throw() behind a pending next() (here a receive that
    // may wait forever) and runs no `finally` when it never started: close first, which ends
    // the pending receive, then let the generator finish.
    const it: AsyncGenerator<Datagram, void, undefined> = {
      next: (...args: [] | [undefined]) => gen.next(...args),
      return: (value: void | PromiseLike<void>) => {
        this.close();
        return gen.return(value);
      },
      throw: (err: unknown) => {
        this.close();
        return gen.throw(err);
      },
      [Symbol.asyncIterator]: () => it,
      [Symbol.asyncDispose]: async () => {
        await it.return(undefined);
      },
    };
    return it;
  }

  async *#datagrams(): AsyncGenerator<Datagram, void, undefined> {
    try {
      for (;;) {
        let batch: Datagram[];
        try {
          batch = await this.recvMany(DEFAULT_BATCH);
        } catch (err) {
          if (this.#closed && (err as { code?: unknown }).code === ERR_SOCKET_CLOSED) return;
          throw err;
        }
        for (const d of batch) yield d;
      }
    } finally {
      this.close();
    }
  }

  /** Closes the socket (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  #live(syscall: string): NativeUdpSocket {
    if (this.#closed) throw socketClosedError(syscall);
    return this.#h;
  }

  /** Decodes a packed batch (layout in `./native.ts`). */
  #unpack(b: Buffer): Datagram[] {
    const count = b.readUInt32LE(0);
    const out = new Array<Datagram>(count);
    const last = this.#lastIp;
    let o = 4;
    for (let i = 0; i < count; i++) {
      const len = b.readUInt32LE(o);
      const port = b[o + 4] | (b[o + 5] << 8);
      const fam = b[o + 6];
      const textLen = b[o + 7];
      const ipLen = fam === 4 ? 4 : 16;
      let same = last[16] === fam;
      for (let k = 0; same && k < ipLen; k++) same = last[k] === b[o + 8 + k];
      o += 24;
      if (!same) {
        this.#lastIpText = b.toString('latin1', o, o + textLen);
        last.set(b.subarray(o - 16, o - 16 + ipLen));
        last[16] = fam;
      }
      o += textLen;
      out[i] = { data: b.subarray(o, o + len), address: this.#lastIpText, port, family: fam === 4 ? 'IPv4' : 'IPv6' };
      o += len;
    }
    return out;
  }
}

function membershipArgs(group: unknown, iface: unknown): [string, string] {
  if (typeof group !== 'string') throw invalidArgType('group', 'of type string', group);
  let i = '';
  if (typeof iface === 'number') {
    if (!Number.isInteger(iface) || iface < 0 || iface > 0xffff_ffff) {
      throw outOfRange('iface', 'an integer >= 0 && <= 4294967295', iface);
    }
    i = String(iface);
  } else if (typeof iface === 'string') {
    i = iface;
  } else if (iface !== undefined) {
    throw invalidArgType('iface', 'of type string or number', iface);
  }
  return [group, i];
}
