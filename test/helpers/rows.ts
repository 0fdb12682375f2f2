// A cheap fingerprint of every table the API writes, to show that a refused request wrote nothing.
import { sql } from 'drizzle-orm'
import type { Db } from '../../src/db/client.js'

/** Row counts, version sums and the latest change of each table: equal before and after means nothing was written. */
export async function rowsChecksum(db: Db): Promise<string> {
  const { rows } = await db.execute<{ v: string }>(sql`
    SELECT concat_ws(' | ',
      (SELECT 'providers ' || count(*) || '/' || coalesce(sum(version), 0) || '/' || coalesce(max(updated_at)::text, '') FROM providers),
      (SELECT 'referral_links ' || count(*) || '/' || coalesce(sum(version), 0) || '/' || coalesce(max(updated_at)::text, '') FROM referral_links),
      (SELECT 'mous ' || count(*) || '/' || coalesce(sum(version), 0) || '/' || coalesce(max(updated_at)::text, '') FROM mous),
      (SELECT 'mou_status_changes ' || count(*) || '/' || coalesce(max(id), 0) FROM mou_status_changes),
      (SELECT 'areas ' || count(*) || '/' || coalesce(max(updated_at)::text, '') FROM areas),
      (SELECT 'organisations ' || count(*) || '/' || coalesce(sum(version), 0) || '/' || coalesce(max(updated_at)::text, '') FROM organisations),
      -- last_used_at is bookkeeping a read may move; a write would change the version or updated_at
      (SELECT 'api_keys ' || count(*) || '/' || coalesce(sum(version), 0) || '/' || coalesce(max(updated_at)::text, '') FROM api_keys),
      (SELECT 'audit_log ' || count(*) || '/' || coalesce(max(id), 0) FROM audit_log)) AS v`)
  return rows[0].v
}
