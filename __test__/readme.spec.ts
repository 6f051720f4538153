/**
 * The README's code samples are real code: every ```ts block is a verbatim excerpt of a file in
 * examples/ (which this test type-checks and, for examples/readme/, runs), and every ```rust
 * block is an excerpt of the corio crate's doc comments or tests (which `cargo test` compiles and
 * runs). A sample that drifts from the code, or code that stops compiling or working, fails here.
 *
 * "Verbatim" allows two differences: the README imports from 'corio' where the examples import
 * their relative path to src/, and a block may sit at any (uniform) indentation in the file.
 */

import test from 'ava';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const RUN_TIMEOUT_MS = 60_000;

/** The fenced blocks of `lang` in markdown text, without their fences. */
function blocks(markdown: string, lang: string): string[] {
  const re = new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'gm');
  return [...markdown.matchAll(re)].map((m) => m[1].replace(/\n$/, ''));
}

function filesUnder(dir: string, ext: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(ext))
    .map((f) => path.join(dir, f));
}

/**
 * Whether `block`'s lines occur as consecutive lines of `file`, all at one extra indentation
 * (blank lines match blank lines).
 */
function containsExcerpt(file: string, block: string): boolean {
  const want = block.split('\n').map((l) => l.trimEnd());
  const have = file.split('\n').map((l) => l.trimEnd());
  for (let i = 0; i + want.length <= have.length; i++) {
    const first = have[i];
    if (!first.endsWith(want[0]) || want[0] === '') continue;
    const indent = first.slice(0, first.length - want[0].length);
    if (indent.trim() !== '') continue;
    if (want.every((w, k) => (w === '' ? have[i + k] === '' : have[i + k] === indent + w))) return true;
  }
  return false;
}

/** An example's text as the README shows it: imports from 'corio' instead of '../src'. */
function asUserCode(source: string): string {
  return source.replace(/from '(?:\.\.\/)+src'/g, "from 'corio'");
}

/** The lines of `//!` and `///` doc comments, without the comment markers. */
function docText(source: string): string {
  return source
    .split('\n')
    .filter((l) => /^\s*\/\/[!/]/.test(l))
    .map((l) => l.replace(/^\s*\/\/[!/] ?/, ''))
    .join('\n');
}

const TS_BLOCKS = blocks(README, 'ts');
const EXAMPLES = filesUnder(path.join(ROOT, 'examples'), '.ts');
const README_EXAMPLES = filesUnder(path.join(ROOT, 'examples', 'readme'), '.ts');

test('the README has TypeScript samples and runnable README examples', (t) => {
  t.true(TS_BLOCKS.length >= 10, `found ${TS_BLOCKS.length} ts blocks`);
  t.true(README_EXAMPLES.length >= 4, `found ${README_EXAMPLES.length} files in examples/readme`);
});

test('every ```ts block of README.md is an excerpt of a file in examples/', (t) => {
  const sources = EXAMPLES.map((f) => ({ f, text: asUserCode(fs.readFileSync(f, 'utf8')) }));
  for (const block of TS_BLOCKS) {
    const where = sources.find((s) => containsExcerpt(s.text, block));
    t.truthy(where, `README block not found in any examples/ file:\n${block}`);
  }
});

test('every ```rust block of README.md is an excerpt of the corio crate (doc tests or tests)', (t) => {
  const crate = path.join(ROOT, 'crates', 'corio');
  const sources = [
    ...filesUnder(path.join(crate, 'src'), '.rs').map((f) => docText(fs.readFileSync(f, 'utf8'))),
    ...filesUnder(path.join(crate, 'tests'), '.rs').map((f) => fs.readFileSync(f, 'utf8')),
  ];
  const rust = blocks(README, 'rust');
  t.true(rust.length >= 1);
  for (const block of rust) {
    t.true(
      sources.some((s) => containsExcerpt(s, block)),
      `README rust block not found in crates/corio (src doc comments or tests):\n${block}`,
    );
  }
});

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: RUN_TIMEOUT_MS, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) ?? 1 : 0;
      resolve({ code: typeof code === 'number' ? code : 1, out: `${stdout}${stderr}` });
    });
  });
}

test('the examples the README quotes type-check (tsc --noEmit, strict)', async (t) => {
  // A throwaway tsconfig that extends the project's and includes only examples/ (and, through
  // their imports, src/), so other work in progress elsewhere cannot hide or cause a failure.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'corio-readme-'));
  try {
    const config = path.join(dir, 'tsconfig.json');
    fs.writeFileSync(
      config,
      JSON.stringify({
        extends: path.join(ROOT, 'tsconfig.json'),
        compilerOptions: {
          noEmit: true,
          rootDir: ROOT,
          typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        },
        include: [path.join(ROOT, 'examples', '**', '*.ts')],
      }),
    );
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await run(process.execPath, [tsc, '-p', config], ROOT);
    t.is(r.code, 0, r.out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

for (const file of README_EXAMPLES) {
  const name = path.relative(ROOT, file);
  test(`${name} runs and exits 0`, async (t) => {
    const r = await run(process.execPath, ['--import', 'tsx', file], ROOT);
    t.is(r.code, 0, r.out);
  });
}
