// Who may read which part of the audit trail: admins all of it; a provider's history also analysts and every key
// of the organisation that owns the provider, each seeing its snapshots as it sees the provider itself.
import { z } from 'zod'
import type { Db } from '../../db/client.js'
import { decodeCursor, toPage } from '../../lib/pagination.js'
import { notFound } from '../../lib/problem.js'
import { forbidden } from '../access/authenticate.js'
import { viewerOf, type Caller } from '../access/roles.js'
import { auditRepo } from './repo.js'
import type { AuditQuery, HistoryQuery } from './schemas.js'

const IdCursor = z.tuple([z.number().int().positive().max(Number.MAX_SAFE_INTEGER)])

const pageOf = (q: { order: 'newest' | 'oldest'; limit: number; cursor?: string }) => ({
  limit: q.limit,
  newestFirst: q.order === 'newest',
  afterId: q.cursor ? decodeCursor(q.cursor, IdCursor)[0] : undefined,
})

export function auditService(db: Db) {
  const repo = auditRepo(db)

  return {
    async list(caller: Caller, q: AuditQuery) {
      const filter = { entity: q.entity, entityId: q.entity_id, organisationId: q.org, since: q.since, until: q.until }
      const rows = await repo.list(filter, viewerOf(caller), pageOf(q))
      return toPage(rows, q.limit, (e) => [e.id])
    },

    async providerHistory(caller: Caller, providerId: string, q: HistoryQuery) {
      const owner = await repo.providerOwner(providerId)
      if (owner === undefined) throw notFound('Provider', providerId)
      const allowed =
        caller.kind === 'key' && (caller.role === 'admin' || caller.role === 'analyst' || caller.organisationId === owner)
      if (!allowed) {
        throw forbidden(`The history of provider ${providerId} is for admins, analysts and its own organisation's keys`)
      }
      const rows = await repo.list({ entity: 'provider', entityId: providerId }, viewerOf(caller), pageOf(q))
      return toPage(rows, q.limit, (e) => [e.id])
    },
  }
}
export type AuditService = ReturnType<typeof auditService>
