// Shared by the issue-3 tests: dates relative to the database's today (the same setu_today() health uses).
import { sql } from 'drizzle-orm'
import type { Db } from '../../src/db/client.js'

export async function dayOffset(db: Db, days: number): Promise<string> {
  const { rows } = await db.execute<{ d: string }>(sql`SELECT (setu_today() + ${days}::int)::text AS d`)
  return rows[0].d
}

export async function monthsAgo(db: Db, months: number, plusDays = 0): Promise<string> {
  const { rows } = await db.execute<{ d: string }>(
    sql`SELECT ((setu_today() - make_interval(months => ${months}::int))::date + ${plusDays}::int)::text AS d`,
  )
  return rows[0].d
}

export const problemJson = /^application\/problem\+json/
