// Which database setu talks to: DATABASE_URL when set, else the private cluster under .data/.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Config } from '../config.js'
import { ensureLocalCluster, type LocalCluster } from './local-cluster.js'

/**
 * The checkout: the nearest folder above this module with package.json and migrations/. The same code runs
 * from src/db/ (tsx) and dist/src/db/ (compiled), and dist/ holds a copy of package.json of its own, so
 * neither a fixed '../..' nor the first package.json found is right for both.
 */
export function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'migrations'))) return dir
    if (path.dirname(dir) === dir) throw new Error(`no setu checkout (package.json beside migrations/) above ${from}`)
  }
}

export const PROJECT_ROOT = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)))

export interface DatabaseTarget {
  url: string
  /** Present when setu runs its own cluster. */
  cluster?: LocalCluster
}

export function resolveDatabase(config: Pick<Config, 'DATABASE_URL'>, log: (msg: string) => void): DatabaseTarget {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL }
  const cluster = ensureLocalCluster(PROJECT_ROOT, log)
  return { url: cluster.url(), cluster }
}
