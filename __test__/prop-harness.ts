/**
 * Shared machinery of the property-based bad-input tests (`__test__/prop-*.spec.ts`, issue 5).
 *
 * Every public function, constructor, method and option of corio's TS API is called with
 * random values (fast-check). The contract checked for every call is the same: it may return,
 * throw or reject only with a `TypeError`/`RangeError` carrying Node's argument codes, or with
 * an `Error` whose `code` the API documents (or an OS error shaped like Node's: `code` `E...`
 * plus `syscall`), or rethrow exactly the error a hostile getter/Proxy of the caller threw.
 * Never a crash, never a hang (every pending promise is forced to settle by a "finisher" and
 * must then settle within a bound), never an unhandled rejection (a process-level listener
 * records them and each property fails on any).
 *
 * Not a spec file itself: ava only runs `*.spec.ts`.
 * @module
 */

import type { ExecutionContext } from 'ava';
import fc from 'fast-check';
import { isIP } from 'node:net';
import { constants as osConstants } from 'node:os';
import { parseAddress } from '../src/net/addr';

// A host name that does reach getaddrinfo must not wait long on a real resolver (CI machines
// may have one): one try, one second. glibc reads this at its first lookup in the process.
process.env.RES_OPTIONS = 'timeout:1 attempts:1';

// ---------------------------------------------------------------------------------------------
// Counting cases.

const counts = new Map<string, number>();
const codesSeen = new Map<string, Set<string>>();

/** Counts one case for `api`. */
export function count(api: string): void {
  counts.set(api, (counts.get(api) ?? 0) + 1);
}

/** Prints the per-API case counts (and the error codes seen) to the test log and the console. */
export function report(t: ExecutionContext, file: string): void {
  const rows = [...counts.entries()].sort(([a], [b]) => a.localeCompare(b));
  const total = rows.reduce((s, [, n]) => s + n, 0);
  const lines = rows.map(([api, n]) => {
    const codes = [...(codesSeen.get(api) ?? [])].sort().join(' ');
    return `  ${api.padEnd(44)} ${String(n).padStart(6)}  ${codes}`;
  });
  const text = `[${file}] bad-input cases per API (api, cases, error codes seen):\n${lines.join('\n')}\n[${file}] total cases: ${total} over ${rows.length} APIs`;
  t.log(text);
  console.log(text);
}

// ---------------------------------------------------------------------------------------------
// Unhandled rejections fail the property that caused them.

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => {
  unhandled.push(reason);
});

/** Throws if any unhandled rejection was seen since the last call (after letting them surface). */
export async function assertNoUnhandled(): Promise<void> {
  // `unhandledRejection` is emitted after the microtask queue drains; give it two turns.
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 5));
  if (unhandled.length > 0) {
    const seen = unhandled.splice(0);
    throw new Error(`unhandled rejection(s): ${seen.map((e) => String((e as Error)?.stack ?? e)).join('\n')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// What may come out.

/** Thrown by the hostile getters and Proxy traps of the generated inputs. */
export class UserThrown extends Error {
  override name = 'UserThrown';
}

/** Error codes the docs list (docs/api-*.md, errors.ts). */
const DOCUMENTED = new Set([
  'ERR_SOCKET_CLOSED',
  'ABORT_ERR',
  'ECONNREFUSED',
  'EADDRINUSE',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EADDRNOTAVAIL',
  'EINVAL',
  'EMSGSIZE',
  'EACCES',
  'ERR_CHANNEL_CLOSED',
  'ERR_CHANNEL_LAGGED',
  'ERR_SEMAPHORE_CLOSED',
  'ERR_RELEASED',
  'ERR_STREAM_MAP_MEMBER',
  'ERR_INTERVAL_CLOSED',
  'ERR_RUNTIME_STARTED',
  'ERR_RUNTIME_SHUTDOWN',
]);

/** Why `err` is not an acceptable outcome, or `undefined` if it is. Records the code seen. */
export function badError(api: string, err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  const note = (c: string): void => {
    let s = codesSeen.get(api);
    if (!s) codesSeen.set(api, (s = new Set()));
    s.add(c);
  };
  if (err instanceof UserThrown) {
    note('(user getter)');
    return undefined;
  }
  if (err instanceof TypeError) {
    if (code === 'ERR_INVALID_ARG_TYPE' || code === 'ERR_INVALID_ARG_VALUE') {
      note(`TypeError:${code}`);
      return undefined;
    }
    // Node's WHATWG streams report use of an errored or closed stream this way (any sink).
    if (code === 'ERR_INVALID_STATE' && /\.(readable|writable)\b/.test(api)) {
      note(`TypeError:${code}`);
      return undefined;
    }
    // A BYOB read's view is checked by Node's WHATWG streams, which throw the spec's plain
    // TypeError (empty, shared or detached views) before corio sees it.
    // node:stream's Writable#write wraps a Uint8Array chunk in a Buffer before any corio code
    // runs, which throws this plain TypeError for a detached one (net.Socket does the same).
    if (api === 'SocketDuplex.write' && /detached ArrayBuffer/.test(err.message)) {
      note('TypeError(node:stream, detached)');
      return undefined;
    }
    if (/\.readable byob\b/.test(api)) {
      note('TypeError(web streams)');
      return undefined;
    }
    return `TypeError without an argument code (code ${String(code)}): ${err.message}`;
  }
  if (err instanceof RangeError) {
    if (code === 'ERR_OUT_OF_RANGE' || code === 'ERR_INVALID_ARG_VALUE') {
      note(`RangeError:${code}`);
      return undefined;
    }
    return `RangeError without an argument code (code ${String(code)}): ${err.message}`;
  }
  if (err instanceof Error && typeof code === 'string') {
    // An OS error's code and errno must name the same error, as in Node.
    const errno = (err as { errno?: unknown }).errno;
    const expected = (osConstants.errno as Record<string, number>)[code];
    if (typeof errno === 'number' && errno !== 0 && expected !== undefined && expected !== -errno) {
      return `code ${code} does not match errno ${errno} (${code} is ${-expected}): ${err.message}`;
    }
    if (DOCUMENTED.has(code)) {
      note(code);
      return undefined;
    }
    // "other OS errors": Node's shape, an E-code plus the failing system call.
    if (/^E[A-Z0-9]+$/.test(code) && typeof (err as { syscall?: unknown }).syscall === 'string') {
      note(`${code}(os)`);
      return undefined;
    }
    return `Error with an undocumented code ${code}: ${err.message}`;
  }
  return `not an acceptable error: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
}

/** How a call ended. */
export type Outcome =
  | { kind: 'returned'; value: unknown }
  | { kind: 'threw'; error: unknown }
  | { kind: 'resolved'; value: unknown }
  | { kind: 'rejected'; error: unknown };

/** The longest a promise may stay pending after its finisher ran (a loaded 2-core machine). */
export const SETTLE_LIMIT_MS = 15_000;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  try {
    return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
  } catch {
    return false; // a hostile value handed back (e.g. received from a channel): not a promise
  }
}

/**
 * Calls `f` and checks its outcome. A promise it returns gets its handlers at once (so it can
 * never be unhandled), then `finish` runs (it must make any legitimate wait end: close the
 * object, send the awaited data, abort the signal), then the promise must settle within
 * {@link SETTLE_LIMIT_MS}. Throws (failing the property) on an unacceptable error or a hang.
 */
export async function call(api: string, f: () => unknown, finish?: () => unknown): Promise<Outcome> {
  count(api);
  let value: unknown;
  try {
    value = f();
  } catch (error) {
    const why = badError(api, error);
    if (why) throw new Error(`${api} threw synchronously: ${why}`, { cause: error });
    return { kind: 'threw', error };
  }
  if (!isThenable(value)) return { kind: 'returned', value };
  const settled = Promise.resolve(value).then(
    (v): Outcome => ({ kind: 'resolved', value: v }),
    (e: unknown): Outcome => ({ kind: 'rejected', error: e }),
  );
  // Let fast paths complete before the finisher interferes.
  await new Promise((r) => setImmediate(r));
  if (finish) {
    try {
      await finish();
    } catch {
      // A finisher may find the object already closed; the promise must settle all the same.
    }
  }
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((r) => {
    timer = setTimeout(() => r('hang'), SETTLE_LIMIT_MS);
  });
  const out = await Promise.race([settled, hang]);
  clearTimeout(timer);
  if (out === 'hang') throw new Error(`${api}: the promise did not settle within ${SETTLE_LIMIT_MS} ms after its finisher`);
  if (out.kind === 'rejected') {
    const why = badError(api, out.error);
    if (why) throw new Error(`${api} rejected: ${why}`, { cause: out.error });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries.

/** `fc.anything()` with every kind of value it can make. */
export const anything: fc.Arbitrary<unknown> = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withTypedArray: true,
  withSparseArray: true,
  stringUnit: 'binary',
});

/** Symbols fast-check itself looks up on generated values (to clone and print them). */
const FC_SYMBOLS = new Set<PropertyKey>([fc.toStringMethod, fc.asyncToStringMethod, fc.cloneMethod]);

/** An object whose every property read throws {@link UserThrown} (fast-check's own symbols aside). */
export function throwingProxy(): object {
  return new Proxy(
    {},
    {
      get(_t, key) {
        if (key === fc.toStringMethod) return () => 'throwingProxy';
        if (FC_SYMBOLS.has(key)) return undefined;
        throw new UserThrown(`get ${String(key)}`);
      },
      has(_t, key) {
        if (key === fc.toStringMethod) return true;
        if (FC_SYMBOLS.has(key)) return false;
        throw new UserThrown('has');
      },
      ownKeys() {
        throw new UserThrown('ownKeys');
      },
      getOwnPropertyDescriptor() {
        throw new UserThrown('getOwnPropertyDescriptor');
      },
      getPrototypeOf() {
        throw new UserThrown('getPrototypeOf');
      },
    },
  );
}

/** An object with a throwing getter under each of `keys` (and a printable form). */
export function throwingGetters(keys: readonly string[]): object {
  const o: Record<string | symbol, unknown> = { [fc.toStringMethod]: () => `throwingGetters(${keys.join(',')})` };
  for (const k of keys) {
    Object.defineProperty(o, k, {
      enumerable: true,
      get() {
        throw new UserThrown(`getter ${k}`);
      },
    });
  }
  return o;
}

/** A transparent Proxy around `target` (must behave exactly like `target`). */
export function transparent<T extends object>(target: T): T {
  const p = new Proxy(target, {});
  return p;
}

/** Values made fresh for each case (AbortSignals, Proxies, functions...). */
const specials: Array<() => unknown> = [
  () => undefined,
  () => null,
  () => NaN,
  () => Infinity,
  () => -Infinity,
  () => -0,
  () => -1,
  () => 1.5,
  () => 2 ** 31,
  () => 2 ** 53,
  () => Number.MAX_VALUE,
  () => '',
  () => '0',
  () => '80',
  () => '\0',
  () => '𝟘😀',
  () => true,
  () => false,
  () => 0n,
  () => Symbol('s'),
  () => () => 1,
  () => class Foo {},
  () => [],
  () => [1, 2],
  () => ({}),
  () => Object.create(null),
  () => new Date(NaN),
  () => /re/,
  () => new Error('plain'),
  () => new Uint8Array(3),
  () => new DataView(new ArrayBuffer(4)),
  () => AbortSignal.abort('already'),
  () => new AbortController().signal,
  () => new EventTarget(),
  () => ({ aborted: false }),
  () => ({ aborted: 'no', addEventListener: 1 }),
  () => throwingProxy(),
  () => throwingGetters(['signal', 'port', 'host', 'address']),
  () => transparent({}),
  () => new Proxy(() => 0, {}),
];

/** A special value (see `specials`), made fresh. */
export const special: fc.Arbitrary<unknown> = fc.integer({ min: 0, max: specials.length - 1 }).map((i) => specials[i]());

/** Any value at all: random ones, special ones. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof({ arbitrary: anything, weight: 2 }, { arbitrary: special, weight: 2 });

/** A `signal` option value: absent, a real one (fresh or already aborted), or not a signal. */
export const signalValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.constant(null).map(() => new AbortController().signal),
  fc.constant(null).map(() => AbortSignal.abort(new Error('pre-aborted'))),
  anyValue,
);

/**
 * An options argument: absent, any value, a hostile object, or a record of `fields` (each
 * field either one of its own interesting values or any value), sometimes behind a Proxy.
 */
export function options(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const keys = Object.keys(fields);
  const rec = fc.record(
    Object.fromEntries(keys.map((k) => [k, fc.oneof({ arbitrary: fields[k], weight: 3 }, { arbitrary: anyValue, weight: 1 })])),
    { requiredKeys: [] },
  );
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 2 },
    { arbitrary: anyValue, weight: 2 },
    { arbitrary: rec, weight: 5 },
    { arbitrary: rec.map((r) => transparent(r as object)), weight: 1 },
    { arbitrary: fc.constant(null).map(() => throwingGetters(keys)), weight: 1 },
    { arbitrary: rec.map((r) => Object.assign([], r)), weight: 1 },
  );
}

/** Integers and non-integers around a range's edges, plus any value. */
export function numberish(min: number, max: number): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31 - 1) }),
    fc.constantFrom(min, max, min - 1, max + 1, 0, -1, 1.5, NaN, Infinity, -Infinity, -0, 2 ** 31, 2 ** 53, `${min}`),
    fc.double(),
    anyValue,
  );
}

/** Typed-array and buffer forms of every kind: the valid Uint8Array family and the rest. */
export const bufferish: fc.Arbitrary<unknown> = fc.oneof(
  fc.nat(4096).map((n) => new Uint8Array(n)),
  fc.nat(4096).map((n) => Buffer.alloc(n)),
  fc.constant(null).map(() => new Uint8Array(0)),
  fc.tuple(fc.nat(64), fc.nat(64)).map(([off, len]) => new Uint8Array(new ArrayBuffer(off + len + 8), off, len)),
  fc.nat(64).map((n) => new Uint8Array(new ArrayBuffer(n + 16)).subarray(3, 3 + n)),
  fc.constant(null).map(() => {
    const ab = new ArrayBuffer(32);
    const view = new Uint8Array(ab, 4, 8);
    structuredClone(ab, { transfer: [ab] }); // detaches `ab`: `view` now has length 0
    // fast-check prints a typed array through its values, which throws once detached.
    Object.defineProperty(view, fc.toStringMethod, { value: () => 'detachedUint8Array' });
    return view;
  }),
  fc.constant(null).map(() => new Uint8Array(new SharedArrayBuffer(16))),
  fc.constant(null).map(() => new Uint8ClampedArray(8)),
  fc.constant(null).map(() => new Int16Array(8)),
  fc.constant(null).map(() => new Float64Array(8)),
  fc.constant(null).map(() => new BigInt64Array(2)),
  fc.constant(null).map(() => new DataView(new ArrayBuffer(8))),
  fc.constant(null).map(() => new ArrayBuffer(8)),
  fc.constant(null).map(() => [1, 2, 3]),
  fc.string({ unit: 'binary', maxLength: 64 }),
  anyValue,
);

// ---------------------------------------------------------------------------------------------
// Addresses.

/** Loopback (or local, unspecified) IP literals: the only hosts the tests may reach. */
const LOCAL_IPS = ['127.0.0.1', '127.0.0.2', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1', '127.1', '0x7f.1'];

/** Host forms that must fail without a DNS query (label > 63 bytes, NUL, scope ids of IP literals). */
const LONG_LABEL = 'x'.repeat(64);
const HOSTS_NO_DNS = [
  'localhost',
  `${LONG_LABEL}.example`,
  `${'a'.repeat(300)}`,
  `${'abc.'.repeat(80)}com`,
  `h${'\u00e9'.repeat(40)}.${LONG_LABEL}`,
  `\u{1F600}.${LONG_LABEL}`,
  '127.0.0.1\0',
  'localhost\0evil',
  '\0',
  'fe80::1%lo',
  'fe80::1%1',
  '::1%lo',
  '::1%999999',
  'fe80::1%',
];

/**
 * Whether resolving `host` may send a DNS query. The tests only use hosts for which this is
 * false: IP literals, `localhost` (from /etc/hosts), and names glibc rejects locally.
 */
export function mayQueryDns(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare) !== 0 || bare === 'localhost' || bare.includes('\0')) return false;
  const pct = bare.indexOf('%');
  if (pct >= 0 && isIP(bare.slice(0, pct)) === 6) return false;
  if (/^[0-9a-fA-Fx.]+$/.test(bare) && LOCAL_IPS.includes(bare)) return false;
  if (Buffer.byteLength(bare) > 253 || bare.split('.').some((l) => Buffer.byteLength(l) > 63)) return false;
  return true;
}

/** The host an address argument would be resolved at, or `undefined` if it is rejected in JS. */
export function hostOf(addr: unknown, allowPortZero: boolean): string | undefined {
  try {
    return parseAddress(addr, 'addr', allowPortZero).host;
  } catch {
    return undefined;
  }
}

/** A host string that never needs DNS (loopback IP literals, bracketed or not, and local failures). */
export const safeHost: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...LOCAL_IPS, ...HOSTS_NO_DNS),
  fc.constantFrom(...LOCAL_IPS).map((h) => `[${h}]`),
);

/** A port value: valid, edge, or wrong. */
export const portValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: 0, max: 65535 }),
  fc.constantFrom(-1, 65536, NaN, 1.5, Infinity, -Infinity, -0, 2 ** 32, '80', '0', 80n),
  anyValue,
);

/** Address arguments of every form; hosts never need DNS (see {@link mayQueryDns}). */
export function addressArb(port: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const host = fc.oneof(fc.constantFrom(...LOCAL_IPS, ...HOSTS_NO_DNS), fc.constantFrom(...LOCAL_IPS).map((h) => `[${h}]`));
  const portText = fc.oneof(
    port.map((p) => {
      try {
        return String(p);
      } catch {
        return 'NaN'; // an object without a string form
      }
    }),
    fc.constantFrom('', '-1', '65536', '99999', '080', '1e3', ' 80', '80 ', '0x50', '８０', '1.5', 'NaN', '000000'),
  );
  const str = fc.oneof(
    fc.tuple(host, portText).map(([h, p]) => (h.includes(':') && !h.startsWith('[') ? `[${h}]:${p}` : `${h}:${p}`)),
    fc.tuple(host, portText).map(([h, p]) => `${h}:${p}`), // unbracketed IPv6 too
    fc.constantFrom(
      '',
      ':',
      ':0',
      '127.0.0.1',
      '127.0.0.1:',
      '[::1]',
      '[::1]:',
      '::1:0',
      '[]:0',
      '[:0',
      '::1]:0',
      '[[::1]]:0',
      '[127.0.0.1]:0',
      '[::1]x:0',
      'host:port',
      '127.0.0.1:0:0',
      '127.0.0.1\0:80',
      '127.0.0.1:80\0',
      '\u{1F600}:80',
      `${'a'.repeat(300)}:80`,
    ),
    fc.string({ unit: 'binary', maxLength: 40 }),
  );
  const obj = fc.record(
    { host: fc.oneof(host, anyValue), address: fc.oneof(host, anyValue), port: fc.oneof(port, anyValue), family: fc.constantFrom('IPv4', 'IPv6', 'x') },
    { requiredKeys: [] },
  );
  return fc
    .oneof({ arbitrary: str, weight: 4 }, { arbitrary: obj, weight: 3 }, { arbitrary: anyValue, weight: 2 }, {
      arbitrary: obj.map((o) => transparent(o as object)),
      weight: 1,
    })
    .filter((a) => {
      const h = hostOf(a, true);
      return h === undefined || !mayQueryDns(h);
    });
}

/**
 * fast-check parameters: bounded runs, fast-check's own seed (printed on failure). A failure
 * prints `{ seed, path }`; `CORIO_PROP_SEED=<seed> CORIO_PROP_PATH=<path> npx ava <file>` replays
 * it (every property of that file then starts from that seed).
 */
export function runs(numRuns: number): {
  numRuns: number;
  interruptAfterTimeLimit: number;
  markInterruptAsFailure: boolean;
  seed?: number;
  path?: string;
} {
  const seed = process.env.CORIO_PROP_SEED;
  const path = process.env.CORIO_PROP_PATH;
  return {
    numRuns,
    interruptAfterTimeLimit: 60_000,
    markInterruptAsFailure: false,
    ...(seed ? { seed: Number(seed) } : {}),
    ...(path ? { path } : {}),
  };
}

/** Settles after the current I/O turn. */
export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
