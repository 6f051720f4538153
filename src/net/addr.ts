/**
 * Socket addresses: parsing what users pass to `bind`/`connect`, and the shape of what
 * `localAddr`/`peerAddr` return.
 *
 * Users give an address as `"host:port"`, `"[::1]:port"` or `{ host?, port }`; the native
 * binding wants a host string and a port number. Parsing and validation happen here, in JS,
 * so that a bad address is a synchronous `TypeError`/`RangeError` naming the argument rather
 * than a failed native call. Host names are passed through and resolved natively, off the JS
 * thread.
 *
 * @module
 */

import { invalidArgType, invalidArgValue, outOfRange, validateObject } from '../errors';

/** The address of a bound or connected socket, as `localAddr` and `peerAddr` report it. */
export interface SocketAddress {
  /** The IP address, e.g. `'127.0.0.1'` or `'::1'` (IPv6 without brackets). */
  address: string;
  /** The port number. */
  port: number;
  /** The address family. */
  family: 'IPv4' | 'IPv6';
}

/**
 * An address to bind to or connect to: `"host:port"`, `"[ipv6]:port"`, or an object whose
 * `host` defaults to `"127.0.0.1"`. A host may be an IPv4 or IPv6 literal or a name to
 * resolve (DNS runs off the JS thread). Port `0` asks the OS for any free port (bind only).
 * A {@link SocketAddress} (such as `listener.localAddr`) is accepted too.
 */
export type AddressInput = string | HostAndPort | SocketAddress;

/** An address as an object: `{ host = "127.0.0.1", port }`. */
export interface HostAndPort {
  /** An IPv4/IPv6 literal (IPv6 with or without brackets) or a host name. Default `"127.0.0.1"`. */
  host?: string;
  /** The port, 0 to 65535 (0: any free port, bind only). */
  port: number;
}

/** A parsed address. @internal */
export interface HostPort {
  host: string;
  port: number;
}

/** The host used when an address object has none. */
export const DEFAULT_HOST = '127.0.0.1';

const DIGITS = /^[0-9]{1,5}$/;

/** The longest host (UTF-8 bytes) the binding takes; a DNS name has at most 253. */
const MAX_HOST_BYTES = 1024;

/** Checks the host's length here, so the RangeError names the caller's argument. */
function checkHostLength(host: string, name: string): void {
  // A UTF-16 unit is at most 3 UTF-8 bytes: count only when it could be too long.
  if (host.length * 3 <= MAX_HOST_BYTES) return;
  const bytes = Buffer.byteLength(host, 'utf8');
  if (bytes > MAX_HOST_BYTES) {
    throw outOfRange(`${name}.host`, `a string of at most ${MAX_HOST_BYTES} bytes (UTF-8)`, `${bytes} bytes`);
  }
}

/**
 * Parses and validates an address argument.
 *
 * @param value - the user's address
 * @param name - the argument name for error messages
 * @param allowPortZero - whether port 0 ("any port") is allowed (bind: yes, connect: no)
 * @internal
 */
export function parseAddress(value: unknown, name: string, allowPortZero: boolean): HostPort {
  const minPort = allowPortZero ? 0 : 1;
  if (typeof value === 'string') {
    const colon = value.lastIndexOf(':');
    if (colon < 0) throw invalidArgValue(name, value, 'must be "host:port" or "[ipv6]:port"');
    let host = value.slice(0, colon);
    const portText = value.slice(colon + 1);
    if (host.startsWith('[')) {
      if (!host.endsWith(']') || host.length < 3) throw invalidArgValue(name, value, 'has a malformed IPv6 literal');
      host = host.slice(1, -1);
      if (!host.includes(':')) throw invalidArgValue(name, value, 'has a malformed IPv6 literal');
    } else if (host.includes(':')) {
      throw invalidArgValue(name, value, 'must put an IPv6 address in brackets, as "[::1]:port"');
    }
    if (host.length === 0) throw invalidArgValue(name, value, 'has no host');
    if (host.includes('\0')) throw invalidArgValue(name, value, 'must not contain null bytes');
    checkHostLength(host, name);
    if (!DIGITS.test(portText)) throw invalidArgValue(name, value, 'has no valid port');
    const port = Number(portText);
    if (port < minPort || port > 65535) throw outOfRange(`${name}.port`, `>= ${minPort} && <= 65535`, port);
    return { host, port };
  }
  if (typeof value !== 'object' || value === null) {
    throw invalidArgType(name, 'of type string ("host:port") or an object { host?, port }', value);
  }
  validateObject(value, name);
  const { host: hostField, address, port } = value as { host?: unknown; address?: unknown; port?: unknown };
  // A SocketAddress names its host `address`.
  const host = hostField !== undefined ? hostField : address !== undefined ? address : DEFAULT_HOST;
  if (typeof host !== 'string') throw invalidArgType(`${name}.host`, 'of type string', host);
  if (host.length === 0) throw invalidArgValue(`${name}.host`, host, 'must not be empty');
  if (host.includes('\0')) throw invalidArgValue(`${name}.host`, host, 'must not contain null bytes');
  let h = host;
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  checkHostLength(h, name);
  if (typeof port !== 'number') throw invalidArgType(`${name}.port`, 'of type number', port);
  if (!Number.isInteger(port) || port < minPort || port > 65535) {
    throw outOfRange(`${name}.port`, `an integer >= ${minPort} && <= 65535`, port);
  }
  return { host: h, port };
}

/**
 * Formats a host and port the way error messages and `"host:port"` strings show them.
 * @internal
 */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
