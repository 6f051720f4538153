/**
 * The UDP echo example and the StreamMap chat example run as users run them
 * (`node --import tsx examples/...`), serve real clients, and exit by themselves after SIGINT.
 */

import test from 'ava';
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { TcpStream, UdpSocket } from '../src';

const EXAMPLES = path.join(__dirname, '..', 'examples');
const HANG_GUARD_MS = 60_000;

interface Running {
  child: ChildProcess;
  addr: string;
  exited: Promise<number | null>;
}

function start(example: string): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(EXAMPLES, example)], {
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), HANG_GUARD_MS);
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => (clearTimeout(guard), res(code))));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /listening on (\S+:\d+)/.exec(out);
      if (m) resolve({ child, addr: m[1], exited });
    });
    void exited.then((code) => reject(new Error(`${example} exited early (${code}): ${out} ${err}`)));
  });
}

/** Reads a TCP stream line by line. */
class LineReader {
  #buf = '';
  #chunk = new Uint8Array(4096);
  #dec = new TextDecoder();
  constructor(readonly s: TcpStream) {}
  async line(): Promise<string | null> {
    for (;;) {
      const nl = this.#buf.indexOf('\n');
      if (nl >= 0) {
        const l = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        return l;
      }
      const n = await this.s.read(this.#chunk);
      if (n === null) return null;
      this.#buf += this.#dec.decode(this.#chunk.subarray(0, n), { stream: true });
    }
  }
  /** Reads lines until `want` of them match `filter`. */
  async collect(want: number, filter: (l: string) => boolean): Promise<string[]> {
    const got: string[] = [];
    while (got.length < want) {
      const l = await this.line();
      if (l === null) throw new Error(`stream ended after ${got.join(' | ')}`);
      if (filter(l)) got.push(l);
    }
    return got;
  }
}

test('examples/udp-echo.ts echoes single datagrams and batches, and exits after SIGINT', async (t) => {
  const server = await start('udp-echo.ts');
  const c = await UdpSocket.bind('127.0.0.1:0');
  await c.connect(server.addr);
  const buf = new Uint8Array(2048);
  await c.send('ping');
  t.is(Buffer.from(buf.subarray(0, await c.recv(buf))).toString(), 'ping');
  t.is(await c.sendMany(Array.from({ length: 20 }, (_, i) => ({ data: `b${i}` }))), 20);
  const back: string[] = [];
  while (back.length < 20) for (const d of await c.recvMany()) back.push(Buffer.from(d.data).toString());
  t.deepEqual([...back].sort(), Array.from({ length: 20 }, (_, i) => `b${i}`).sort());
  c.close();
  server.child.kill('SIGINT');
  t.is(await server.exited, 0);
});

test('examples/chat.ts: 3 clients exchange messages through the StreamMap server', async (t) => {
  const server = await start('chat.ts');
  const names = ['ann', 'bob', 'cat'];
  const clients: LineReader[] = [];
  for (const name of names) {
    const r = new LineReader(await TcpStream.connect(server.addr));
    t.is(await r.line(), 'name?');
    await r.s.writeAll(`${name}\n`);
    t.is(await r.line(), `welcome ${name}`);
    clients.push(r);
  }
  // Everyone has joined (subscribed) now: each says one line.
  for (let i = 0; i < 3; i++) await clients[i].s.writeAll(`hello from ${names[i]}\n`);
  for (let i = 0; i < 3; i++) {
    const got = await clients[i].collect(2, (l) => l.includes(': hello from'));
    const expected = names.filter((_, j) => j !== i).map((n) => `${n}: hello from ${n}`);
    t.deepEqual([...got].sort(), expected.sort(), `client ${names[i]}`);
  }
  // A client that leaves is announced to the others.
  await clients[2].s.shutdown();
  t.deepEqual(await clients[0].collect(1, (l) => l.startsWith('* cat')), ['* cat left']);
  for (const c of clients) c.s.close();
  server.child.kill('SIGINT');
  t.is(await server.exited, 0);
});
