// Runs once after the test files (tap's `after`, also when test files failed or crashed): stop the private
// cluster if this test run started it (or took it over from a run that died; see test/setup.ts).
import { existsSync, rmSync } from 'node:fs'
import path from 'node:path'
import { PROJECT_ROOT } from '../src/db/database.js'
import { stopLocalCluster } from '../src/db/local-cluster.js'

const marker = path.join(PROJECT_ROOT, '.data', 'started-for-tests')
if (existsSync(marker) && !process.env.SETU_KEEP_DB) {
  rmSync(marker)
  stopLocalCluster(PROJECT_ROOT)
}
