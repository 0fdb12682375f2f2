// "Today" for every date rule in SQL (MOU expiry, funding ends, verification age).
import { sql } from 'drizzle-orm'

/**
 * setu_today() (migration 0003): the database's day in the session's TimeZone, or the day a test fixed with
 * setu.today. As a scalar subquery it becomes an InitPlan, computed once per query: inlined bare, the
 * function's current_setting() and text-to-date cast would run once per row, and the mou_status filter
 * reads the effective status of every MOU of every candidate provider.
 */
export const today = sql`(SELECT setu_today())`
