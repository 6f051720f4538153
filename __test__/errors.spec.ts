/**
 * Error shapes and argument validation: TypeError/RangeError naming the argument with Node's
 * codes, thrown synchronously before anything reaches native code; native errors translated to
 * Node's shape; AbortError.
 */

import test from 'ava';
import { AbortError, copy, ERR_SOCKET_CLOSED, runtime, TcpListener, TcpStream } from '../src';
import { fromNative, socketClosedError } from '../src/errors';
import { parseAddress } from '../src/net/addr';
import { codeOf, pair } from './fixtures/tcp-util';

function expectArgError(t: import('ava').ExecutionContext, fn: () => unknown, ctor: ErrorConstructor, code: string, name: string): void {
  const err = t.throws(fn);
  t.true(err instanceof ctor, `${err?.constructor.name}: ${err?.message}`);
  t.is(codeOf(err), code);
  t.true(err?.message.includes(name), `"${err?.message}" names ${name}`);
}

test('parseAddress: the accepted forms', (t) => {
  t.deepEqual(parseAddress('127.0.0.1:80', 'addr', false), { host: '127.0.0.1', port: 80 });
  t.deepEqual(parseAddress('localhost:0', 'addr', true), { host: 'localhost', port: 0 });
  t.deepEqual(parseAddress('[::1]:443', 'addr', false), { host: '::1', port: 443 });
  t.deepEqual(parseAddress('[fe80::1%lo]:1', 'addr', false), { host: 'fe80::1%lo', port: 1 });
  t.deepEqual(parseAddress({ port: 8080 }, 'addr', false), { host: '127.0.0.1', port: 8080 });
  t.deepEqual(parseAddress({ host: '::1', port: 1 }, 'addr', false), { host: '::1', port: 1 });
  t.deepEqual(parseAddress({ host: '[::1]', port: 1 }, 'addr', false), { host: '::1', port: 1 });
  // A SocketAddress (from localAddr) is an address too.
  t.deepEqual(parseAddress({ address: '::1', family: 'IPv6', port: 5 }, 'addr', false), { host: '::1', port: 5 });
});

test('bind/connect: bad addresses are TypeError/RangeError naming the argument', (t) => {
  expectArgError(t, () => TcpListener.bind(42 as never), TypeError, 'ERR_INVALID_ARG_TYPE', 'addr');
  expectArgError(t, () => TcpListener.bind(null as never), TypeError, 'ERR_INVALID_ARG_TYPE', 'addr');
  expectArgError(t, () => TcpListener.bind('no-port'), TypeError, 'ERR_INVALID_ARG_VALUE', 'addr');
  expectArgError(t, () => TcpListener.bind('::1:80'), TypeError, 'ERR_INVALID_ARG_VALUE', 'addr');
  expectArgError(t, () => TcpListener.bind('[::1:80'), TypeError, 'ERR_INVALID_ARG_VALUE', 'addr');
  expectArgError(t, () => TcpListener.bind(':80'), TypeError, 'ERR_INVALID_ARG_VALUE', 'addr');
  expectArgError(t, () => TcpListener.bind('host:http'), TypeError, 'ERR_INVALID_ARG_VALUE', 'addr');
  expectArgError(t, () => TcpListener.bind('127.0.0.1:65536'), RangeError, 'ERR_OUT_OF_RANGE', 'addr.port');
  expectArgError(t, () => TcpListener.bind({ port: -1 }), RangeError, 'ERR_OUT_OF_RANGE', 'addr.port');
  expectArgError(t, () => TcpListener.bind({ port: 1.5 }), RangeError, 'ERR_OUT_OF_RANGE', 'addr.port');
  expectArgError(t, () => TcpListener.bind({ port: '80' } as never), TypeError, 'ERR_INVALID_ARG_TYPE', 'addr.port');
  expectArgError(t, () => TcpListener.bind({ host: 1, port: 80 } as never), TypeError, 'ERR_INVALID_ARG_TYPE', 'addr.host');
  expectArgError(t, () => TcpStream.connect({ port: 0 }), RangeError, 'ERR_OUT_OF_RANGE', 'addr.port');
  expectArgError(t, () => TcpStream.connect('127.0.0.1:0'), RangeError, 'ERR_OUT_OF_RANGE', 'addr.port');
});

test('bind/connect: bad options are TypeError/RangeError naming the option', (t) => {
  expectArgError(t, () => TcpListener.bind({ port: 0 }, 5 as never), TypeError, 'ERR_INVALID_ARG_TYPE', 'opts');
  expectArgError(t, () => TcpListener.bind({ port: 0 }, { backlog: 0 }), RangeError, 'ERR_OUT_OF_RANGE', 'opts.backlog');
  expectArgError(t, () => TcpListener.bind({ port: 0 }, { backlog: 'x' as never }), TypeError, 'ERR_INVALID_ARG_TYPE', 'opts.backlog');
  expectArgError(t, () => TcpListener.bind({ port: 0 }, { reusePort: 1 as never }), TypeError, 'ERR_INVALID_ARG_TYPE', 'opts.reusePort');
  expectArgError(t, () => TcpListener.bind({ port: 0 }, { signal: {} as never }), TypeError, 'ERR_INVALID_ARG_TYPE', 'opts.signal');
  expectArgError(t, () => TcpStream.connect({ port: 1 }, { noDelay: 'y' as never }), TypeError, 'ERR_INVALID_ARG_TYPE', 'opts.noDelay');
  expectArgError(t, () => TcpStream.connect({ port: 1 }, { keepAlive: 0 as never }), TypeError, 'ERR_INVALID_ARG_TYPE', 'opts.keepAlive');
  expectArgError(t, () => TcpStream.connect({ port: 1 }, { signal: 'x' as never }), TypeError, 'ERR_INVALID_ARG_TYPE', 'opts.signal');
});

test('stream methods validate their arguments synchronously', async (t) => {
  const { client, server, listener } = await pair();
  expectArgError(t, () => client.read('x' as never), TypeError, 'ERR_INVALID_ARG_TYPE', 'buf');
  expectArgError(t, () => client.read(new ArrayBuffer(4) as never), TypeError, 'ERR_INVALID_ARG_TYPE', 'buf');
  expectArgError(t, () => client.read(new Uint8Array(4), { signal: 1 } as never), TypeError, 'ERR_INVALID_ARG_TYPE', 'opts.signal');
  expectArgError(t, () => client.write(5 as never), TypeError, 'ERR_INVALID_ARG_TYPE', 'data');
  expectArgError(t, () => client.writeAll({} as never), TypeError, 'ERR_INVALID_ARG_TYPE', 'data');
  expectArgError(t, () => client.setNoDelay('yes' as never), TypeError, 'ERR_INVALID_ARG_TYPE', 'on');
  expectArgError(t, () => client.setKeepAlive(true, -5), RangeError, 'ERR_OUT_OF_RANGE', 'initialDelayMs');
  expectArgError(t, () => listener.accept({ signal: null } as never), TypeError, 'ERR_INVALID_ARG_TYPE', 'opts.signal');
  expectArgError(t, () => copy(client, 'x' as never), TypeError, 'ERR_INVALID_ARG_TYPE', 'to');
  client.close();
  server.close();
  listener.close();
});

test('runtime.configure validates its options', (t) => {
  expectArgError(t, () => runtime.configure(undefined as never), TypeError, 'ERR_INVALID_ARG_TYPE', 'options');
  expectArgError(t, () => runtime.configure({ workerThreads: 0 }), RangeError, 'ERR_OUT_OF_RANGE', 'options.workerThreads');
  expectArgError(t, () => runtime.configure({ workerThreads: 2.5 }), RangeError, 'ERR_OUT_OF_RANGE', 'options.workerThreads');
  expectArgError(t, () => runtime.configure({ workerThreads: '4' as never }), TypeError, 'ERR_INVALID_ARG_TYPE', 'options.workerThreads');
});

test('AbortError shape', (t) => {
  const reason = new Error('why');
  const err = new AbortError(undefined, { cause: reason });
  t.true(err instanceof Error);
  t.is(err.name, 'AbortError');
  t.is(err.code, 'ABORT_ERR');
  t.is(err.message, 'The operation was aborted');
  t.is(err.cause, reason);
});

test('socketClosedError shape', (t) => {
  const err = socketClosedError('read');
  t.is(err.code, ERR_SOCKET_CLOSED);
  t.is(err.message, 'Socket is closed');
  t.is(err.syscall, 'read');
});

test('fromNative keeps Node codes and fills syscall/address/port', (t) => {
  const raw = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', errno: -111 });
  const err = fromNative(raw, 'connect', '127.0.0.1', 1) as Error & Record<string, unknown>;
  t.is(err as Error, raw as Error, 'the same object, not a copy');
  t.is(err.code, 'ECONNREFUSED');
  t.is(err.errno, -111);
  t.is(err.syscall, 'connect');
  t.is(err.address, '127.0.0.1');
  t.is(err.port, 1);
  // Fields the binding set win.
  const set = Object.assign(new Error('x'), { code: 'EADDRINUSE', syscall: 'bind', port: 9 });
  t.like(fromNative(set, 'listen', 'h', 1), { syscall: 'bind', port: 9, address: 'h' });
});

test('fromNative finds the code in the message when napi holds `code`', (t) => {
  const napiStyle = Object.assign(new Error('ECONNRESET: connection reset by peer'), { code: 'GenericFailure' });
  t.is(codeOf(fromNative(napiStyle)), 'ECONNRESET');
  t.is(codeOf(fromNative(new Error('[EPIPE] broken pipe'))), 'EPIPE');
  t.is(codeOf(fromNative(new Error('read ECONNRESET'))), 'ECONNRESET');
  const closed = fromNative(new Error('ERR_SOCKET_CLOSED: Socket is closed'));
  t.is(codeOf(closed), 'ERR_SOCKET_CLOSED');
  // Unknown codes stay as they are.
  t.is(codeOf(fromNative(Object.assign(new Error('corio native panic: boom'), { code: 'ERR_NATIVE_PANIC' }))), 'ERR_NATIVE_PANIC');
  // Non-errors become errors.
  t.true(fromNative('weird') instanceof Error);
});

test('fromNative turns ABORT_ERR into an AbortError', (t) => {
  const err = fromNative(Object.assign(new Error('The operation was aborted'), { code: 'ABORT_ERR' }));
  t.true(err instanceof AbortError);
  t.is(err.name, 'AbortError');
});
