/**
 * Networking: TCP and Unix domain listeners and streams.
 *
 * @module
 */

export { TcpListener } from './tcp-listener';
export type { BindOptions } from './tcp-listener';
export { TcpStream } from './tcp-stream';
export type { ConnectOptions } from './tcp-stream';
export type { AddressInput, HostAndPort, SocketAddress } from './addr';
export { SocketListener } from './socket-listener';
export { SocketStream } from './socket-stream';
export { UnixListener } from './unix-listener';
export type { UnixBindOptions } from './unix-listener';
export { UnixStream } from './unix-stream';
export type { UnixConnectOptions, UnixSocketAddress } from './unix-stream';
