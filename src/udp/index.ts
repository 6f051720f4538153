/**
 * UDP: datagram sockets with batched receive and send (`recvmmsg`/`sendmmsg`), which
 * `node:dgram` does not offer.
 *
 * @module
 */

export { UdpSocket } from './udp-socket';
export type { Datagram, OutgoingDatagram, RecvFromResult, UdpBindOptions } from './udp-socket';
