/**
 * Networking: TCP listeners and streams.
 *
 * @module
 */

export { TcpListener } from './tcp-listener';
export type { BindOptions } from './tcp-listener';
export { TcpStream } from './tcp-stream';
export type { ConnectOptions } from './tcp-stream';
export type { AddressInput, HostAndPort, SocketAddress } from './addr';
