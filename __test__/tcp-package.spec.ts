/**
 * The package's entry points: `require('corio')` and `import { ... } from 'corio'` both work
 * from the compiled `dist/` (package.json main/types), and a TypeScript consumer type-checks
 * against the emitted declarations. The package is assembled in a temporary directory from a
 * fresh compile of src/, so this does not depend on a stale dist/.
 */

import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');

function assemble(): string {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'corio-pkg-'));
  const pkg = path.join(tmp, 'node_modules', 'corio');
  fs.mkdirSync(pkg, { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  // The native loader at the package root, delegating to the repository's built binding.
  fs.writeFileSync(path.join(pkg, 'index.js'), `module.exports = require(${JSON.stringify(path.join(ROOT, 'index.js'))});\n`);
  execFileSync(process.execPath, [
    path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    path.join(ROOT, 'tsconfig.build.json'),
    '--outDir',
    path.join(pkg, 'dist'),
  ]);
  fs.mkdirSync(path.join(tmp, 'node_modules', '@types'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules', '@types', 'node'), path.join(tmp, 'node_modules', '@types', 'node'), 'dir');
  return tmp;
}

const SCRIPT = `
const listener = await corio.TcpListener.bind({ port: 0 });
const [client, server] = await Promise.all([corio.TcpStream.connect(listener.localAddr), listener.accept()]);
await client.writeAll('pkg');
const buf = new Uint8Array(3);
let n = 0;
while (n < 3) n += await server.read(buf.subarray(n));
console.log(Buffer.from(buf).toString(), typeof corio.copy, typeof corio.runtime.metrics, typeof corio.AbortError);
for (const s of [client, server, listener]) s.close();
`;

test('require("corio") and import from "corio" work, with types', (t) => {
  const tmp = assemble();
  try {
    const cjs = execFileSync(process.execPath, ['-e', `(async () => { const corio = require('corio'); ${SCRIPT} })()`], {
      cwd: tmp,
      encoding: 'utf8',
    });
    t.is(cjs.trim(), 'pkg function function function');

    const esm = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `import * as corio from 'corio'; import { TcpListener } from 'corio'; if (TcpListener !== corio.TcpListener) throw new Error('named import'); ${SCRIPT}`],
      { cwd: tmp, encoding: 'utf8' },
    );
    t.is(esm.trim(), 'pkg function function function');

    fs.writeFileSync(
      path.join(tmp, 'consumer.ts'),
      `import { TcpListener, TcpStream, copy, copyBidirectional, runtime, AbortError, type SocketAddress } from 'corio';
import corio = require('corio');
async function main(): Promise<void> {
  const listener: TcpListener = await TcpListener.bind('127.0.0.1:0', { backlog: 10 });
  const addr: SocketAddress = listener.localAddr;
  const family: 'IPv4' | 'IPv6' = addr.family;
  const s: TcpStream = await corio.TcpStream.connect(addr, { noDelay: true });
  const n: number | null = await s.read(new Uint8Array(1), { signal: AbortSignal.abort() });
  const copied: number = await copy(s, s);
  const both: [number, number] = await copyBidirectional(s, s);
  const workers: number = runtime.metrics().workers;
  const e: string = new AbortError().code;
  void [family, n, copied, both, workers, e];
}
void main;
`,
    );
    // The generated binding (index.d.ts from `napi build`) satisfies the interface src/native.ts
    // codes against, so a change on either side shows up here.
    fs.writeFileSync(
      path.join(tmp, 'conformance.ts'),
      `import type * as generated from ${JSON.stringify(path.join(ROOT, 'index'))};
import type { NativeBinding } from 'corio/dist/native';
export const binding: NativeBinding = {} as typeof generated;
`,
    );
    execFileSync(
      process.execPath,
      [
        path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        '--noEmit',
        '--strict',
        '--module',
        'commonjs',
        '--moduleResolution',
        'node',
        '--target',
        'es2022',
        '--lib',
        'es2022,esnext.disposable,esnext.asynciterable',
        'consumer.ts',
        'conformance.ts',
      ],
      { cwd: tmp, encoding: 'utf8' },
    );
    t.pass();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
