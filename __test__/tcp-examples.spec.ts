/**
 * The examples run as users run them (`node --import tsx examples/...`): the echo servers echo,
 * the proxy forwards, and each exits by itself after SIGINT closes its listener.
 */

import test from 'ava';
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { TcpStream } from '../src';
import { pattern, readAll } from './fixtures/tcp-util';

const EXAMPLES = path.join(__dirname, '..', 'examples');
const HANG_GUARD_MS = 60_000;

interface Running {
  child: ChildProcess;
  /** host:port from the "listening on"/"forwarding" line. */
  addr: string;
  exited: Promise<number | null>;
}

function start(example: string, env: Record<string, string>): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(EXAMPLES, example)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), HANG_GUARD_MS);
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => (clearTimeout(guard), res(code))));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /(?:listening on|forwarding) (\S+:\d+)/.exec(out);
      if (m) resolve({ child, addr: m[1], exited });
    });
    void exited.then((code) => reject(new Error(`${example} exited early (${code}): ${out} ${err}`)));
  });
}

async function echoThrough(addr: string, data: Buffer): Promise<Buffer> {
  const s = await TcpStream.connect(addr);
  const [back] = await Promise.all([readAll(s), s.writeAll(data).then(() => s.shutdown())]);
  s.close();
  return back;
}

test('examples/echo.ts and examples/echo-copy.ts echo, and exit after SIGINT', async (t) => {
  for (const example of ['echo.ts', 'echo-copy.ts']) {
    const server = await start(example, { PORT: '0' });
    const data = pattern(100_000, 11);
    const results = await Promise.all([0, 1, 2].map(() => echoThrough(server.addr, data)));
    t.true(results.every((r) => r.equals(data)), example);
    server.child.kill('SIGINT');
    t.is(await server.exited, 0, example);
  }
});

test('examples/proxy.ts forwards to its TARGET', async (t) => {
  const echo = await start('echo-copy.ts', { PORT: '0' });
  const proxy = await start('proxy.ts', { LISTEN: '127.0.0.1:0', TARGET: echo.addr });
  const data = pattern(300_000, 12);
  t.true((await echoThrough(proxy.addr, data)).equals(data));
  proxy.child.kill('SIGINT');
  echo.child.kill('SIGINT');
  t.is(await proxy.exited, 0);
  t.is(await echo.exited, 0);
});
