// ../shared/data: real public boundaries and facilities that a few tests read. It is not part of the
// repository, so a checkout may lack it; those tests then report themselves skipped, with the reason,
// and .ci/run fails on a skip, so a CI run without the data never passes as if it had been checked.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { PROJECT_ROOT } from '../../src/db/database.js'

/** SETU_SHARED_DATA points elsewhere, e.g. to an empty directory to see which tests skip without the data. */
export const SHARED_DATA = process.env.SETU_SHARED_DATA || path.resolve(PROJECT_ROOT, '..', 'shared', 'data')

export const sharedPath = (file: string) => path.join(SHARED_DATA, file)

export const readSharedJson = (file: string): unknown => JSON.parse(readFileSync(sharedPath(file), 'utf8'))

/** tap's `skip` option for a test that reads these files: false when all are present, else why it cannot run. */
export function skipWithoutShared(...files: string[]): false | string {
  const missing = files.filter((f) => !existsSync(sharedPath(f)))
  return missing.length === 0 ? false : `the shared data set is absent: no ${missing.join(', ')} in ${SHARED_DATA}`
}
