/**
 * Bad input, TCP (issue 5): property-based tests over every argument and option of
 * `TcpListener`, `TcpStream`, `copy` and `copyBidirectional`, with random values of every type,
 * malformed and edge-case addresses, odd buffer kinds and sizes, hostile option objects, and
 * calls after `close()`. Only `TypeError`/`RangeError` with Node's argument codes, documented
 * error codes or Node-shaped OS errors may come out; never a crash, a hang or an unhandled
 * rejection (see `prop-harness.ts`). Real sockets on loopback; every socket opened is closed.
 */

import test from 'ava';
import fc from 'fast-check';
import { copy, copyBidirectional, SocketDuplex, TcpListener, TcpStream } from '../src';
import {
  addressArb,
  anyValue,
  assertNoUnhandled,
  bufferish,
  call,
  numberish,
  Outcome,
  options,
  portValue,
  report,
  runs,
  signalValue,
  tick,
} from './prop-harness';

/** Accepts connections from the random `connect` cases and closes them at once. */
let sink: TcpListener;
/** A port nothing listens on (bound, then closed). */
let closedPort: number;
/** Hands out connected pairs. */
let pairs: TcpListener;
const open = new Set<{ close(): void }>();

async function pair(): Promise<[TcpStream, TcpStream]> {
  const acc = pairs.accept();
  const client = await TcpStream.connect(pairs.localAddr);
  const server = await acc;
  open.add(client);
  open.add(server);
  return [client, server];
}

/** Reads and discards everything `s` receives until it ends or fails. */
async function drain(s: TcpStream): Promise<number> {
  const buf = new Uint8Array(256 * 1024);
  let total = 0;
  try {
    for (let n; (n = await s.read(buf)) !== null; ) total += n;
  } catch {
    // closed: done
  }
  return total;
}

test.before(async () => {
  sink = await TcpListener.bind('127.0.0.1:0');
  pairs = await TcpListener.bind('127.0.0.1:0');
  const tmp = await TcpListener.bind('127.0.0.1:0');
  closedPort = tmp.localAddr.port;
  tmp.close();
  void (async () => {
    for await (const s of sink) s.close();
  })();
});

test.after.always((t) => {
  for (const s of open) s.close();
  sink?.close();
  pairs?.close();
  report(t, 'prop-tcp');
});

const wait = signalValue;

test.serial('TcpListener.bind: random addresses and options', async (t) => {
  const opts = options({
    backlog: numberish(1, 65535),
    reusePort: fc.boolean(),
    idleTimeout: numberish(0, 2 ** 31 - 1),
    signal: wait,
  });
  await fc.assert(
    fc.asyncProperty(addressArb(portValue), opts, async (addr, o) => {
      const out = await call('TcpListener.bind', () => TcpListener.bind(addr as never, o as never));
      if (out.kind === 'resolved') {
        const l = out.value as TcpListener;
        if (!(l instanceof TcpListener)) throw new Error('bind resolved a non-listener');
        const a = l.localAddr;
        if (!(a.port > 0 && a.port <= 65535)) throw new Error(`bad localAddr ${JSON.stringify(a)}`);
        l.close();
      }
    }),
    runs(300),
  );
  await assertNoUnhandled();
  t.pass();
});

test.serial('TcpStream.connect: random addresses and options (loopback only)', async (t) => {
  // Valid ports are mapped to the sink (accepts and closes) or a closed port: the random cases
  // never touch another program's server.
  const port = fc.oneof(fc.constantFrom(sink.localAddr.port, closedPort), portValue.filter((p) => typeof p !== 'number' || !Number.isInteger(p) || p <= 0 || p > 65535));
  const opts = options({ noDelay: fc.boolean(), keepAlive: fc.boolean(), signal: wait });
  await fc.assert(
    fc.asyncProperty(addressArb(port), opts, async (addr, o) => {
      const out = await call('TcpStream.connect', () => TcpStream.connect(addr as never, o as never));
      if (out.kind === 'resolved') {
        const s = out.value as TcpStream;
        if (!(s instanceof TcpStream)) throw new Error('connect resolved a non-stream');
        s.close();
      }
    }),
    runs(300),
  );
  await assertNoUnhandled();
  t.pass();
});

test.serial('TcpStream.read/write/writeAll/setters: random arguments on a live pair', async (t) => {
  const [client, server] = await pair();
  // The server side drains what the client writes; the client reads what finishers send.
  const serverWrites: Promise<unknown>[] = [];
  const drained = drain(server);
  const dataArb = fc.oneof(bufferish, fc.string({ unit: 'grapheme', maxLength: 64 }), fc.constantFrom('😀𝟘', '\ud800', 'a\0b'));
  const sigOpts = options({ signal: wait });
  const finishRead = (): void => {
    serverWrites.push(server.write('x').catch(() => {}));
  };
  await fc.assert(
    fc.asyncProperty(fc.nat(6), bufferish, dataArb, sigOpts, anyValue, anyValue, async (which, buf, data, o, a1, a2) => {
      switch (which) {
        case 0: {
          const out = await call('TcpStream.read', () => client.read(buf as never, o as never), finishRead);
          if (out.kind === 'resolved') {
            const n = out.value;
            const len = (buf as Uint8Array).byteLength;
            if (typeof n !== 'number' || n < 0 || n > len || (len > 0 && n === 0)) {
              throw new Error(`read resolved ${String(n)} for a ${len}-byte buffer`);
            }
          }
          break;
        }
        case 1: {
          const out = await call('TcpStream.write', () => client.write(data as never, o as never));
          if (out.kind === 'resolved' && typeof out.value !== 'number') throw new Error('write resolved a non-number');
          break;
        }
        case 2: {
          const out = await call('TcpStream.writeAll', () => client.writeAll(data as never, o as never));
          if (out.kind === 'resolved' && out.value !== undefined) throw new Error('writeAll resolved a value');
          break;
        }
        case 3: {
          const out = await call('TcpStream.setNoDelay', () => client.setNoDelay(a1 as never));
          if (out.kind === 'returned' && out.value !== client) throw new Error('setNoDelay did not return this');
          break;
        }
        case 4: {
          const out = await call('TcpStream.setKeepAlive', () => client.setKeepAlive(a1 as never, a2 as never));
          if (out.kind === 'returned' && out.value !== client) throw new Error('setKeepAlive did not return this');
          break;
        }
        case 5: {
          await call('TcpStream.ref/unref', () => (client.ref as (...a: unknown[]) => unknown).call(client, a1));
          await call('TcpStream.ref/unref', () => (client.unref as (...a: unknown[]) => unknown).call(client, a1));
          client.ref();
          await call('TcpStream.localAddr/peerAddr', () => `${client.localAddr.port}:${client.peerAddr.port}`);
          break;
        }
        case 6: {
          const out = await call('TcpStream.toNodeStream', () => client.toNodeStream(a1 as never));
          if (out.kind === 'returned' && typeof (out.value as { pipe?: unknown }).pipe !== 'function') {
            throw new Error('toNodeStream returned a non-stream');
          }
          break;
        }
      }
    }),
    runs(400),
  );
  await Promise.all(serverWrites);
  client.close();
  server.close();
  await drained;
  await assertNoUnhandled();
  t.pass();
});

test.serial('TcpStream.toNodeStream: random options', async (t) => {
  const [client] = await pair();
  const opts = options({
    allowHalfOpen: fc.boolean(),
    readableHighWaterMark: numberish(0, 2 ** 31 - 1),
    writableHighWaterMark: numberish(0, 2 ** 31 - 1),
  });
  await fc.assert(
    fc.asyncProperty(opts, async (o) => {
      await call('TcpStream.toNodeStream', () => client.toNodeStream(o as never));
    }),
    runs(200),
  );
  client.close();
  await assertNoUnhandled();
  t.pass();
});

test.serial('TcpStream.setIdleTimeout: random values (a fresh pair per valid value)', async (t) => {
  let shared = await pair();
  await fc.assert(
    fc.asyncProperty(numberish(0, 2 ** 31 - 1), async (ms) => {
      const [client] = shared;
      const out = await call('TcpStream.setIdleTimeout', () => client.setIdleTimeout(ms as never));
      if (out.kind === 'returned') {
        if (out.value !== client) throw new Error('setIdleTimeout did not return this');
        // A real timeout may fire at any moment now: use a new pair from here on.
        client.setIdleTimeout(0);
        shared[0].close();
        shared[1].close();
        shared = await pair();
      }
    }),
    runs(150),
  );
  shared[0].close();
  shared[1].close();
  await assertNoUnhandled();
  t.pass();
});

test.serial('copy / copyBidirectional: random arguments', async (t) => {
  const streamOrNot = fc.oneof(fc.constant('STREAM' as const), anyValue);
  const opts = options({ signal: wait });
  await fc.assert(
    fc.asyncProperty(fc.boolean(), streamOrNot, streamOrNot, opts, async (bidi, a, b, o) => {
      let made: TcpStream[] = [];
      if (a === 'STREAM' || b === 'STREAM') {
        made = await pair();
      }
      const x = a === 'STREAM' ? made[0] : a;
      const y = b === 'STREAM' ? made[1] : b;
      const finish = (): void => {
        for (const s of made) s.close();
      };
      if (bidi) await call('copyBidirectional', () => copyBidirectional(x as never, y as never, o as never), finish);
      else await call('copy', () => copy(x as never, y as never, o as never), finish);
      finish();
    }),
    runs(150),
  );
  await assertNoUnhandled();
  t.pass();
});

/** A copy of an ArrayBuffer view (same type, same kind of buffer); other values as they are. */
function copyView(v: unknown): unknown {
  if (!ArrayBuffer.isView(v)) return v;
  const shared = typeof SharedArrayBuffer !== 'undefined' && v.buffer instanceof SharedArrayBuffer;
  const buf = shared ? new SharedArrayBuffer(v.byteLength) : new ArrayBuffer(v.byteLength);
  if (v instanceof DataView) return new DataView(buf);
  const C = v.constructor as new (b: ArrayBufferLike) => ArrayBufferView;
  return new C(buf);
}

test.serial('adapters: Node Duplex methods and Web Streams with random arguments and chunks', async (t) => {
  const chunk = fc.oneof(bufferish, fc.string({ maxLength: 16 }));
  await fc.assert(
    fc.asyncProperty(fc.nat(5), chunk, numberish(0, 2 ** 31 - 1), anyValue, async (which, c, ms, v) => {
      const [client, server] = await pair();
      const drained = drain(server);
      const finish = (): void => {
        client.close();
      };
      switch (which) {
        case 0: {
          const d = client.toNodeStream() as SocketDuplex;
          d.on('error', () => {});
          await call('SocketDuplex.setTimeout', () => d.setTimeout(ms as never, (typeof v === 'function' ? undefined : v) as never));
          d.setTimeout(0);
          await call('SocketDuplex.setNoDelay/setKeepAlive', () => d.setNoDelay(v as never));
          await call('SocketDuplex.setNoDelay/setKeepAlive', () => d.setKeepAlive(v as never, ms as never));
          await call('SocketDuplex.address getters', () => [d.remoteAddress, d.remotePort, d.remoteFamily, d.localAddress, d.localPort, d.localFamily]);
          break;
        }
        case 1: {
          const d = client.toNodeStream();
          d.on('error', () => {});
          await call('SocketDuplex.write', () => new Promise<void>((resolve, reject) => {
            // Node validates the chunk (ERR_INVALID_ARG_TYPE) or calls back once written.
            d.write(c as never, (err) => (err ? reject(err) : resolve()));
          }), finish);
          d.destroy();
          break;
        }
        case 2: {
          const w = client.writable.getWriter();
          await call('TcpStream.writable write', () => w.write(c as never), finish);
          await call('TcpStream.writable close', () => w.close(), finish);
          break;
        }
        case 3: {
          const w = client.writable.getWriter();
          await call('TcpStream.writable abort', () => w.abort(v));
          break;
        }
        case 4: {
          const r = client.readable.getReader({ mode: 'byob' });
          // A BYOB read detaches the view's buffer: hand it a copy so fast-check can still
          // print the generated value.
          const view = copyView(c);
          // A view of 8-byte elements resolves once a whole element arrived: send 16 bytes.
          await call('TcpStream.readable byob read', () => r.read(view as never), () => server.writeAll(new Uint8Array(16)).catch(() => 0));
          await call('TcpStream.readable cancel', () => r.cancel(v));
          break;
        }
        case 5: {
          const it = client[Symbol.asyncIterator]();
          await call('TcpStream[asyncIterator] next', () => it.next(), () => server.write('i').catch(() => 0));
          await call('TcpStream[asyncIterator] return', () => it.return(undefined));
          break;
        }
      }
      client.close();
      server.close();
      await drained;
    }),
    runs(150),
  );
  await assertNoUnhandled();
  t.pass();
});

type StreamOp = 'read' | 'read0' | 'write' | 'writeAll' | 'shutdown' | 'setNoDelay' | 'setKeepAlive' | 'setIdleTimeout' | 'localAddr' | 'peerAddr' | 'toNodeStream' | 'iterate' | 'readable' | 'writable' | 'copy' | 'ref' | 'close';
const STREAM_OPS: StreamOp[] = ['read', 'read0', 'write', 'writeAll', 'shutdown', 'setNoDelay', 'setKeepAlive', 'setIdleTimeout', 'localAddr', 'peerAddr', 'toNodeStream', 'iterate', 'readable', 'writable', 'copy', 'ref', 'close'];

test.serial('lifecycle: random operation sequences around close(), pending operations at close', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.constantFrom(...STREAM_OPS), { minLength: 1, maxLength: 12 }), fc.boolean(), async (ops, pendingRead) => {
      const [client, server] = await pair();
      const pending: Promise<Outcome>[] = [];
      let pendingOpen = false;
      if (pendingRead) {
        pendingOpen = true;
        const p = call('TcpStream.read (pending at close)', () => client.read(new Uint8Array(8)));
        pending.push(p);
        void p.finally(() => {
          pendingOpen = false;
        });
      }
      await tick();
      // Feeds a read op: one byte, and one more if the pending read was queued before it (it
      // takes the first byte). Decided before writing: the pending read may take that byte
      // and settle before the write's promise does (JS-loop reads are served in the same turn).
      const feed = async (): Promise<void> => {
        const queuedFirst = pendingOpen;
        await server.write('r').catch(() => 0);
        if (queuedFirst) {
          await pending[0];
          await server.write('r').catch(() => 0);
        }
      };
      let closed = false;
      for (const op of ops) {
        const api = `TcpStream.${op}${closed ? ' (after close)' : ''}`;
        const run = (): unknown => {
          switch (op) {
            case 'read':
              return client.read(new Uint8Array(4));
            case 'read0':
              return client.read(new Uint8Array(0));
            case 'write':
              return client.write('w');
            case 'writeAll':
              return client.writeAll(new Uint8Array(3));
            case 'shutdown':
              return client.shutdown();
            case 'setNoDelay':
              return client.setNoDelay(true);
            case 'setKeepAlive':
              return client.setKeepAlive(true, 1000);
            case 'setIdleTimeout':
              return client.setIdleTimeout(0);
            case 'localAddr':
              return client.localAddr;
            case 'peerAddr':
              return client.peerAddr;
            case 'toNodeStream':
              return client.toNodeStream();
            case 'iterate':
              return client[Symbol.asyncIterator]().return(undefined);
            case 'readable':
              return client.readable;
            case 'writable':
              return client.writable;
            case 'copy':
              return copy(client, client);
            case 'ref':
              return client.unref().ref();
            case 'close':
              closed = true;
              return client.close();
          }
        };
        const wasClosed = closed && op !== 'close';
        // A pending copy or iteration ends when the stream closes: close it to finish.
        const out = await call(api, run, op === 'copy' ? () => client.close() : op === 'read' ? feed : undefined);
        if (op === 'copy') closed = true;
        if (wasClosed && ['read', 'write', 'writeAll', 'shutdown', 'setNoDelay', 'setKeepAlive', 'setIdleTimeout', 'copy'].includes(op)) {
          const err = out.kind === 'threw' || out.kind === 'rejected' ? out.error : undefined;
          if ((err as { code?: unknown } | undefined)?.code !== 'ERR_SOCKET_CLOSED') {
            throw new Error(`${op} after close: expected ERR_SOCKET_CLOSED, got ${out.kind} ${String((err as Error | undefined)?.message ?? '')}`);
          }
        }
      }
      client.close();
      server.close();
      const outs = await Promise.all(pending);
      for (const o of outs) {
        if (o.kind !== 'rejected' && !(o.kind === 'resolved')) throw new Error(`pending read ended as ${o.kind}`);
      }
    }),
    runs(120),
  );
  await assertNoUnhandled();
  t.pass();
});

test.serial('lifecycle: listener operations around close()', async (t) => {
  const ops = ['accept', 'acceptAborted', 'localAddr', 'ref', 'unref', 'close', 'iterate', 'dispose'] as const;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.constantFrom(...ops), { minLength: 1, maxLength: 8 }), async (seq) => {
      const l = await TcpListener.bind('127.0.0.1:0');
      let closed = false;
      for (const op of seq) {
        const api = `TcpListener.${op}${closed ? ' (after close)' : ''}`;
        const out = await call(
          api,
          () => {
            switch (op) {
              case 'accept':
                return l.accept();
              case 'acceptAborted':
                return l.accept({ signal: AbortSignal.abort() });
              case 'localAddr':
                return l.localAddr;
              case 'ref':
                return l.ref();
              case 'unref':
                return l.unref().ref();
              case 'close':
                closed = true;
                return l.close();
              case 'iterate':
                return l[Symbol.asyncIterator]().next();
              case 'dispose':
                closed = true;
                return l[Symbol.asyncDispose]();
            }
          },
          // A pending accept (or loop) ends when the listener closes.
          () => {
            if (op === 'accept' || op === 'iterate') {
              l.close();
              closed = true;
            }
          },
        );
        if (op === 'accept' && out.kind === 'rejected' && (out.error as { code?: unknown }).code !== 'ERR_SOCKET_CLOSED') {
          throw new Error(`accept rejected with ${String((out.error as { code?: unknown }).code)}`);
        }
      }
      l.close();
    }),
    runs(120),
  );
  await assertNoUnhandled();
  t.pass();
});

test.serial('sizes: writeAll of 0 B .. 64 MiB arrives complete; non-Uint8Array views are refused', async (t) => {
  const size = fc.oneof(fc.nat(300_000), fc.constantFrom(0, 1, 65_535, 65_536, 1 << 20));
  await fc.assert(
    fc.asyncProperty(size, fc.boolean(), async (n, useString) => {
      const [client, server] = await pair();
      const counted = drain(server);
      const data = useString ? '😀'.repeat(Math.floor(n / 4)) : new Uint8Array(n);
      const expected = useString ? Buffer.byteLength(data as string) : n;
      await call('TcpStream.writeAll (sizes)', () => client.writeAll(data));
      await client.shutdown();
      const got = await counted;
      client.close();
      server.close();
      if (got !== expected) throw new Error(`peer received ${got} of ${expected} bytes`);
    }),
    { ...runs(14), examples: [[64 << 20, false]] },
  );
  const [client, server] = await pair();
  for (const v of [new DataView(new ArrayBuffer(4)), new Int16Array(4), new Float64Array(2), new ArrayBuffer(4), [1, 2]]) {
    for (const op of ['read', 'write', 'writeAll'] as const) {
      const out = await call(`TcpStream.${op} (non-Uint8Array view)`, () => (client[op] as (x: unknown) => unknown)(v));
      t.is(out.kind, 'threw', `${op}(${v.constructor.name})`);
      t.is(((out as { error: { code?: string } }).error).code, 'ERR_INVALID_ARG_TYPE');
    }
  }
  client.close();
  server.close();
  await assertNoUnhandled();
});

test.serial('read() into a 0-byte buffer resolves 0 at once, never null, and consumes nothing', async (t) => {
  const [client, server] = await pair();
  const empty = new Uint8Array(0);
  const detached = (() => {
    const ab = new ArrayBuffer(8);
    const v = new Uint8Array(ab);
    structuredClone(ab, { transfer: [ab] });
    return v;
  })();
  // Nothing sent yet: 0 at once (not a wait, not EOF).
  t.is(await client.read(empty), 0);
  t.is(await client.read(detached), 0);
  t.is(await client.read(new Uint8Array(16).subarray(5, 5)), 0);
  await server.writeAll('abc');
  t.is(await client.read(empty), 0);
  const buf = new Uint8Array(8);
  let got = 0;
  while (got < 3) got += (await client.read(buf.subarray(got))) ?? 0;
  t.is(Buffer.from(buf.subarray(0, 3)).toString(), 'abc', 'the 0-byte read consumed nothing');
  // At end of stream, a 0-byte read still resolves 0; a real read resolves null (EOF).
  await server.shutdown();
  t.is(await client.read(buf), null);
  t.is(await client.read(empty), 0);
  t.is(await client.read(detached), 0);
  // Writing a 0-byte or detached buffer resolves 0 / undefined and sends nothing.
  t.is(await client.write(empty), 0);
  t.is(await client.write(detached), 0);
  t.is(await client.writeAll(detached), undefined);
  client.close();
  server.close();
  await assertNoUnhandled();
});

test.serial('found by the properties: an embedded NUL in a host is a synchronous ERR_INVALID_ARG_VALUE', async (t) => {
  for (const addr of ['127.0.0.1\0:80', 'localhost\0evil:80', '[::1\0]:80', { host: '127.0.0.1\0', port: 80 }, { address: '\0', port: 1 }]) {
    for (const f of [() => TcpStream.connect(addr as never), () => TcpListener.bind(addr as never)]) {
      const out = await call('address with NUL (regression)', f);
      t.is(out.kind, 'threw');
      t.is(((out as { error: { code?: string } }).error).code, 'ERR_INVALID_ARG_VALUE');
    }
  }
});

test.serial('found by the properties: SocketDuplex.setTimeout validates like net.Socket', async (t) => {
  const [client, server] = await pair();
  const d = client.toNodeStream() as SocketDuplex;
  for (const [ms, code] of [[-1, 'ERR_OUT_OF_RANGE'], [NaN, 'ERR_OUT_OF_RANGE'], [Infinity, 'ERR_OUT_OF_RANGE'], ['5', 'ERR_INVALID_ARG_TYPE'], [5n, 'ERR_INVALID_ARG_TYPE']] as const) {
    const err = t.throws(() => d.setTimeout(ms as never)) as Error & { code?: string };
    t.is(err.code, code, `setTimeout(${String(ms)})`);
  }
  t.is((t.throws(() => d.setTimeout(10, 'not a function' as never)) as Error & { code?: string }).code, 'ERR_INVALID_ARG_TYPE');
  // Longer than Node's longest timer: clamped (Node would otherwise fire it after 1 ms).
  t.is(d.setTimeout(2 ** 40), d);
  d.setTimeout(0);
  d.destroy();
  server.close();
});
