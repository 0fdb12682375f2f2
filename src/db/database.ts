// Which database setu talks to: DATABASE_URL when set, else the private cluster under .data/.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Config } from '../config.js'
import { ensureLocalCluster, type LocalCluster } from './local-cluster.js'

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

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
