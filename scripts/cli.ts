// What the command-line scripts share: the database to work on, and a plain message instead of a stack trace
// when there is none to be had (PostgreSQL or PostGIS missing, apt-get failing, an invalid environment).
import { loadConfig, type Config } from '../src/config.js'
import { resolveDatabase, type DatabaseTarget } from '../src/db/database.js'

export const say = (msg: string) => console.error(`[setu] ${msg}`)

export function configOrExit(): Config {
  try {
    return loadConfig()
  } catch (err) {
    say((err as Error).message)
    process.exit(1)
  }
}

export function databaseOrExit(config: Config): DatabaseTarget {
  try {
    return resolveDatabase(config, say)
  } catch (err) {
    say(`no database: ${(err as Error).message}`)
    process.exit(1)
  }
}
