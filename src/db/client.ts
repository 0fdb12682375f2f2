import pg from 'pg'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import * as schema from './schema.js'

// DATE columns come back as 'YYYY-MM-DD' strings, not midnight-local Date objects.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v)
// bigint counts (count(*)) fit comfortably in a JS number here.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v))

export type Db = NodePgDatabase<typeof schema> & { $client: pg.Pool }

export function createDb(connectionString: string, max = 10): Db {
  const pool = new pg.Pool({ connectionString, max, application_name: 'setu' })
  return drizzle(pool, { schema }) as Db
}
