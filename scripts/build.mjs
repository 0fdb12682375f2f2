// npm run build: compile src/ to dist/ with tsc (tsconfig.build.json) and the field page (web/) to dist/web with
// Vite. Plain JavaScript, not TypeScript: `npm start` runs this with plain node before anything is compiled.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
/** Where the compiled server lives (rootDir is the checkout because src/openapi.ts imports ../package.json). */
export const SERVER_ENTRY = path.join('dist', 'src', 'server.js')
/** Written last, with the time the build started: dist/ is complete, and older than any input changed since. */
const STAMP = path.join('dist', '.built')
/** What a build depends on: a change to any of them makes dist/ stale. */
const INPUTS = ['src', 'web', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']
/** Where the built field page lives (served by src/modules/page/). */
export const WEB_OUT = path.join('dist', 'web')

function newestMtime(file) {
  let stat
  try {
    stat = statSync(file)
  } catch {
    return 0
  }
  if (!stat.isDirectory()) return stat.mtimeMs
  let newest = stat.mtimeMs // a deleted source file shows only as its folder's mtime
  for (const entry of readdirSync(file)) newest = Math.max(newest, newestMtime(path.join(file, entry)))
  return newest
}

/** Why dist/ must be built again, or undefined when it is up to date. */
export function staleReason(root = ROOT) {
  const stamp = path.join(root, STAMP)
  if (!existsSync(stamp)) return 'dist/ is missing'
  const built = statSync(stamp).mtimeMs
  const changed = INPUTS.find((input) => newestMtime(path.join(root, input)) > built)
  return changed ? `${changed} changed since the last build` : undefined
}

function processAlive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

/**
 * Several servers may start at once on a fresh checkout (the system tests do): one builds, the others wait
 * for it and then find dist/ fresh. A lock left by a process that died is taken over.
 */
function withBuildLock(root, fn) {
  const lock = path.join(root, '.dist.lock')
  const deadline = Date.now() + 10 * 60_000
  for (;;) {
    try {
      mkdirSync(lock)
      writeFileSync(path.join(lock, 'pid'), String(process.pid))
      break
    } catch (err) {
      if (err.code !== 'EEXIST') throw err
      let holder = 0
      try {
        holder = Number(readFileSync(path.join(lock, 'pid'), 'utf8'))
      } catch {
        // just created, pid not written yet
      }
      if (holder && !processAlive(holder)) rmSync(lock, { recursive: true, force: true })
      else if (Date.now() > deadline) throw new Error(`timed out waiting for another build (${lock})`)
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200)
    }
  }
  try {
    return fn()
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

/** Whether TypeScript and Vite are installed (not after `npm ci --omit=dev`). */
export const canBuild = (root = ROOT) => tscPath(root) !== undefined && vitePath(root) !== undefined

function resolveFrom(root, id) {
  try {
    return createRequire(path.join(root, 'package.json')).resolve(id)
  } catch {
    return undefined
  }
}
const tscPath = (root) => resolveFrom(root, 'typescript/bin/tsc')
// vite's package exports no bin/ path: its bin lies beside its package.json.
const vitePath = (root) => {
  const pkg = resolveFrom(root, 'vite/package.json')
  return pkg && path.join(path.dirname(pkg), 'bin', 'vite.js')
}

/** Text files the server may send precompressed (@fastify/static preCompressed picks .br or .gz by Accept-Encoding). */
const COMPRESSIBLE = /\.(html|js|mjs|css|json|svg|webmanifest|txt)$/

function compressTree(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) compressTree(file)
    else if (COMPRESSIBLE.test(entry.name)) {
      const body = readFileSync(file)
      if (body.length < 1024) continue
      writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }))
      writeFileSync(`${file}.br`, brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } }))
    }
  }
}

/** The field page: Vite (web/vite.config.ts) into `outDir`, then .br/.gz beside each text file. */
function buildWeb(root, outDir) {
  const vite = vitePath(root)
  if (!vite) throw new Error('Vite is not installed: run npm ci (with dev dependencies) first')
  const res = spawnSync(process.execPath, [vite, 'build', '--config', path.join(root, 'web', 'vite.config.ts'), '--outDir', outDir, '--emptyOutDir'], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    // Vite would otherwise pick a NODE_ENV of development from the environment of a dev shell.
    env: { ...process.env, NODE_ENV: 'production' },
  })
  if (res.status !== 0) throw new Error(`vite build failed (exit ${res.status ?? res.signal})`)
  compressTree(outDir)
}

/**
 * Compiles into a folder of its own and swaps it in only when tsc succeeded, so a failed build leaves the
 * previous dist/ in place and a server starting meanwhile never loads a half-written one.
 * Returns false when dist/ was already fresh (another process built it while this one waited); `force`
 * builds anyway, as `npm run build` does.
 */
export function build(root = ROOT, log = (msg) => console.error(msg), { force = false } = {}) {
  return withBuildLock(root, () => {
    const reason = force ? 'npm run build' : staleReason(root)
    if (!reason) return false
    const tsc = tscPath(root)
    if (!tsc || !vitePath(root)) throw new Error(`${reason} and TypeScript or Vite is not installed: run npm ci (with dev dependencies) first`)
    log(`building dist/ with tsc (${reason})`)
    const started = new Date()
    const out = path.join(root, `.dist-${process.pid}`)
    rmSync(out, { recursive: true, force: true })
    const res = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', out], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    if (res.status !== 0) {
      rmSync(out, { recursive: true, force: true })
      throw new Error(`tsc failed (exit ${res.status ?? res.signal}); dist/ was left as it was`)
    }
    log('building dist/web with vite')
    try {
      buildWeb(root, path.join(out, path.relative('dist', WEB_OUT)))
    } catch (err) {
      rmSync(out, { recursive: true, force: true })
      throw new Error(`${err.message}; dist/ was left as it was`)
    }
    const stamp = path.join(out, path.relative('dist', STAMP))
    writeFileSync(stamp, `${started.toISOString()}\n`)
    utimesSync(stamp, started, started)
    rmSync(path.join(root, 'dist'), { recursive: true, force: true })
    renameSync(out, path.join(root, 'dist'))
    log(`built dist/ in ${((Date.now() - started.getTime()) / 1000).toFixed(1)} s`)
    return true
  })
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    // --if-stale: what `npm start` would do (test/setup.ts runs it before the system tests start servers).
    const ifStale = process.argv.includes('--if-stale')
    if (!build(ROOT, (msg) => console.log(msg), { force: !ifStale })) console.log('dist/ is up to date')
  } catch (err) {
    console.error(err.message)
    process.exitCode = 1
  }
}
