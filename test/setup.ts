// Runs once before the test files (tap's `before`): start the database and build the template.
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { PROJECT_ROOT } from '../src/db/database.js'
import { ensureLocalCluster } from '../src/db/local-cluster.js'
import { dropOrphanDatabases, ensureTemplate } from './helpers/db.js'

const marker = path.join(PROJECT_ROOT, '.data', 'started-for-tests')
if (!process.env.DATABASE_URL) {
  const cluster = ensureLocalCluster(PROJECT_ROOT, (m) => console.error(`# ${m}`))
  if (cluster.startedHere) writeFileSync(marker, String(process.pid))
  else if (existsSync(marker)) rmSync(marker)
}
await dropOrphanDatabases()
await ensureTemplate()
