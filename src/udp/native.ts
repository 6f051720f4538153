/**
 * The native UDP handle as the TypeScript layer sees it, and the packed formats that carry
 * batches across the boundary.
 *
 * Kept beside the UDP wrapper (instead of in `src/native.ts`) so that UDP is one folder. The
 * binding's batches cross the boundary packed, one buffer per batch, because one crossing per
 * datagram would cost more than the system call it replaces:
 * - received (`tryRecvMany`/`takeMany`): `u32 count`, then per datagram
 *   `u32 len | u16 port | u8 family (4|6) | u8 addrTextLen | 16 B raw IP | addrText | payload`;
 * - sent (`trySendMany`/`sendMany`): the payloads back to back, an 8-byte record per datagram
 *   (`u32 len | u16 port | u16 hostIndex`), and the distinct hosts (`''` = connected peer).
 * All integers little endian.
 *
 * @module
 * @internal
 */

import { native, NativeAddr } from '../native';

/** One datagram received into a caller's buffer. @internal */
export interface NativeRecv {
  bytes: number;
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** Socket options applied before bind. @internal */
export interface NativeUdpBindOptions {
  reuseAddress?: boolean;
  reusePort?: boolean;
  ipv6Only?: boolean;
  broadcast?: boolean;
  recvBufferSize?: number;
  sendBufferSize?: number;
}

/** `NativeUdpSocket` of the generated binding (see crates/corio-node/src/net/udp.rs). @internal */
export interface NativeUdpSocket {
  bind(host: string, port: number, opts: NativeUdpBindOptions | undefined, opId: number): Promise<void>;
  connect(host: string, port: number, opId: number): Promise<void>;
  /** Bytes sent, -1 would block, -2 host needs resolution; throws on OS errors. */
  trySendTo(data: Uint8Array, host: string, port: number): number;
  sendTo(data: Uint8Array, host: string, port: number, opId: number): Promise<number>;
  trySend(data: Uint8Array): number;
  send(data: Uint8Array, opId: number): Promise<number>;
  tryRecvFrom(buf: Uint8Array): NativeRecv | null;
  /**
   * Like `tryRecvFrom` without a result object: bytes received, or -1 when none is queued. The
   * sender goes into `info` (64 bytes): `u16 port | u8 family (4|6) | u8 textLen | text`,
   * `textLen = 0` meaning the same address as the last datagram this method reported.
   */
  tryRecvFromInto(buf: Uint8Array, info: Uint8Array): number;
  /** Resolves a ticket for {@link NativeUdpSocket.takeRecv}. */
  recvFrom(size: number, opId: number): Promise<number>;
  takeRecv(ticket: number, buf: Uint8Array): NativeRecv;
  tryRecvMany(max: number): Buffer | null;
  /** Resolves a ticket for {@link NativeUdpSocket.takeMany}. */
  recvMany(max: number, opId: number): Promise<number>;
  takeMany(ticket: number): Buffer;
  trySendMany(payload: Uint8Array, meta: Uint8Array, hosts: string[], from: number): number;
  sendMany(payload: Uint8Array, meta: Uint8Array, hosts: string[], from: number, opId: number): Promise<number>;
  setBroadcast(on: boolean): void;
  setTtl(ttl: number): void;
  setMulticastTtl(ttl: number): void;
  setMulticastLoopback(on: boolean): void;
  joinMulticast(group: string, iface: string): void;
  leaveMulticast(group: string, iface: string): void;
  localAddr(): NativeAddr;
  peerAddr(): NativeAddr;
  close(): void;
  ref(): void;
  unref(): void;
  readonly closed: boolean;
  /**
   * Test hook: an op that panics while it holds the socket's receive (`recv`) or send turn;
   * rejects with `ERR_NATIVE_PANIC`.
   */
  __panicInTurnForTest(recv: boolean): Promise<void>;
}

/** Creates an unbound native UDP handle. @internal */
export function newNativeUdpSocket(): NativeUdpSocket {
  const b = native() as unknown as { NativeUdpSocket: new () => NativeUdpSocket };
  return new b.NativeUdpSocket();
}
