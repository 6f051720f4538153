#!/usr/bin/env node
// `npm install` hook: make sure a native binding for this platform exists, building the Rust
// core from source (needs cargo) when no prebuilt binary fits, and build the TS layer in a
// source checkout.
//
// Order of preference:
//   1. CORIO_SKIP_INSTALL=1            → do nothing (packagers, CI steps that build separately)
//   2. a prebuilt platform package      → @corio-rs/binding-<platform> (optionalDependencies)
//   3. a local corio.<platform>.node    → already built (e.g. by `npm run build:native`)
//   4. otherwise                        → `napi build --platform --release` from source
// Then, in a source checkout (src/ + tsconfig.build.json present), `npm run build:ts`.
'use strict'

const { execSync, spawnSync } = require('node:child_process')
const { existsSync } = require('node:fs')
const { join } = require('node:path')

const root = join(__dirname, '..')
const log = (msg) => console.log(`[corio] ${msg}`)

function isMusl() {
  if (process.platform !== 'linux') return false
  try {
    const report = process.report?.getReport?.()
    const header = typeof report === 'string' ? JSON.parse(report).header : report?.header
    return !header?.glibcVersionRuntime
  } catch {
    return false
  }
}

function platformTriple() {
  const { platform, arch } = process
  if (platform === 'linux') return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

function run(cmd, args) {
  log(`$ ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' })
  if (r.status !== 0) {
    console.error(`[corio] command failed (${r.status ?? r.signal}): ${cmd} ${args.join(' ')}`)
    process.exit(r.status || 1)
  }
}

function hasPrebuilt(triple) {
  try {
    require.resolve(`@corio-rs/binding-${triple}`, { paths: [root] })
    return true
  } catch {
    return false
  }
}

function main() {
  if (process.env.CORIO_SKIP_INSTALL === '1') {
    log('CORIO_SKIP_INSTALL=1: skipping native build')
    return
  }
  const triple = platformTriple()
  const local = join(root, `corio.${triple}.node`)
  const sourceCheckout = existsSync(join(root, 'crates', 'corio-node', 'Cargo.toml'))
  const forceBuild = process.env.CORIO_BUILD_FROM_SOURCE === '1'

  if (!forceBuild && hasPrebuilt(triple)) {
    log(`using the prebuilt binary @corio-rs/binding-${triple}`)
  } else if (!forceBuild && existsSync(local) && !sourceCheckout) {
    log(`using ${local}`)
  } else if (!sourceCheckout) {
    console.error(`[corio] no prebuilt binary for ${triple} and no Rust sources to build from`)
    process.exit(1)
  } else {
    try {
      execSync('cargo --version', { stdio: 'ignore' })
    } catch {
      console.error(
        `[corio] no prebuilt binary for ${triple}: building from source needs a Rust toolchain ` +
          '(cargo), see https://rustup.rs — then run `npm install` again',
      )
      process.exit(1)
    }
    // In a source checkout the binding is (re)built every install: cargo makes an unchanged
    // build a no-op, and a stale .node from older sources would be worse than a short check.
    log(`building the native core from source for ${triple} (cargo, release)`)
    const napiCli = join(root, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js')
    const napiArgs = [
      'build', '--platform', '--release',
      '--manifest-path', 'crates/corio-node/Cargo.toml',
      '--package-json-path', 'package.json',
      '--output-dir', '.', '--js', 'index.js', '--dts', 'index.d.ts',
    ]
    if (existsSync(napiCli)) run(process.execPath, [napiCli, ...napiArgs])
    else run('npx', ['--yes', '@napi-rs/cli@3', ...napiArgs])
  }

  if (sourceCheckout && existsSync(join(root, 'tsconfig.build.json')) && existsSync(join(root, 'src'))) {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    if (existsSync(tsc)) run(process.execPath, [tsc, '-p', 'tsconfig.build.json'])
    else log('typescript is not installed: skipping the TS build (run `npm run build:ts`)')
  }
}

main()
