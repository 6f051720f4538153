/**
 * corio: a Tokio-style async runtime for Node.js.
 *
 * Sockets whose system calls, copying and proxying run on a work-stealing Rust runtime, behind
 * an `await`-based API with real backpressure and `AbortSignal` cancellation; plus tokio's
 * channels and synchronization primitives and time utilities, in TypeScript.
 *
 * ```ts
 * import { TcpListener } from 'corio';
 * const listener = await TcpListener.bind('127.0.0.1:8080');
 * for await (const socket of listener) void echo(socket);
 * ```
 *
 * @packageDocumentation
 */

export { SocketListener, SocketStream, TcpListener, TcpStream, UnixListener, UnixStream } from './net';
export type {
  AddressInput,
  BindOptions,
  ConnectOptions,
  HostAndPort,
  SocketAddress,
  UnixBindOptions,
  UnixConnectOptions,
  UnixSocketAddress,
} from './net';
export * from './udp';
export { copy, copyBidirectional, SocketDuplex } from './io';
export type { AbortOptions, ByteReader, ByteStream, ByteWriter, NodeStreamOptions } from './io';
export { AbortError, ERR_SOCKET_CLOSED } from './errors';
export type { SystemError } from './errors';
export * as runtime from './runtime';
export type { RuntimeMetrics, RuntimeOptions } from './runtime';
export * from './sync';
export * from './time';
export * from './stream';
