// The audit trail as the database triggers wrote it (migration 0004), read back with provider snapshots masked
// for the caller: the same rule as every live provider row (lib/location-visibility.ts).
import { sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { shownProviderSnapshot, type Viewer } from '../../lib/location-visibility.js'
import type { AuditEntry } from './schemas.js'

export interface AuditFilter {
  entity?: string
  entityId?: string
  organisationId?: string
  since?: string
  until?: string
}

interface AuditRow {
  id: number
  at: string
  key_id: string | null
  key_prefix: string | null
  organisation_id: string | null
  organisation: string | null
  role: string
  request_id: string | null
  entity: AuditEntry['entity']
  entity_id: string
  action: string
  before: Record<string, unknown> | null
  after: Record<string, unknown> | null
}

const shown = (column: SQL, viewer: Viewer) =>
  viewer.exact === 'all' ? column : sql`CASE WHEN a.entity = 'provider' THEN ${shownProviderSnapshot(column, viewer)} ELSE ${column} END`

const toEntry = ({ key_id, key_prefix, organisation_id, organisation, role, ...rest }: AuditRow): AuditEntry => ({
  ...rest,
  actor: { key_id, key_prefix, organisation_id, organisation, role },
})

export function auditRepo(ex: Executor) {
  return {
    /** One page (limit + 1 rows) of entries matching the filter, by id in the order asked, after the cursor's id. */
    async list(filter: AuditFilter, viewer: Viewer, page: { limit: number; newestFirst: boolean; afterId?: number }): Promise<AuditEntry[]> {
      const conditions: SQL[] = []
      if (filter.entity) conditions.push(sql`a.entity = ${filter.entity}`)
      if (filter.entityId) conditions.push(sql`a.entity_id = ${filter.entityId}`)
      if (filter.organisationId) conditions.push(sql`a.organisation_id = ${filter.organisationId}::uuid`)
      if (filter.since) conditions.push(sql`a.at >= ${filter.since}::timestamptz`)
      if (filter.until) conditions.push(sql`a.at < ${filter.until}::timestamptz`)
      if (page.afterId !== undefined) conditions.push(page.newestFirst ? sql`a.id < ${page.afterId}` : sql`a.id > ${page.afterId}`)
      const { rows } = await ex.execute<AuditRow & Record<string, unknown>>(sql`
        SELECT a.id, to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at,
               a.key_id, a.key_prefix, a.organisation_id, o.name AS organisation, a.role, a.request_id,
               a.entity, a.entity_id, a.action, ${shown(sql`a.before`, viewer)} AS before, ${shown(sql`a.after`, viewer)} AS after
        FROM audit_log a LEFT JOIN organisations o ON o.id = a.organisation_id
        ${conditions.length ? sql`WHERE ${sql.join(conditions, sql` AND `)}` : sql``}
        ORDER BY a.id ${page.newestFirst ? sql`DESC` : sql`ASC`}
        LIMIT ${page.limit + 1}`)
      return rows.map(toEntry)
    },

    /** The organisation owning provider `id`, or undefined when there is no such provider. */
    async providerOwner(id: string): Promise<string | undefined> {
      const { rows } = await ex.execute<{ organisation_id: string }>(sql`SELECT organisation_id FROM providers WHERE id = ${id}::uuid`)
      return rows[0]?.organisation_id
    },
  }
}
export type AuditRepo = ReturnType<typeof auditRepo>
