import { z } from 'zod'
import { CursorParam, Limit, Page } from '../../lib/pagination.js'
import { IdParams } from '../../lib/vocabulary.js'

export const AUDITED_ENTITIES = ['provider', 'referral_link', 'mou', 'api_key', 'organisation'] as const
export const AuditedEntity = z.enum(AUDITED_ENTITIES).meta({ id: 'AuditedEntity', example: 'provider' })

// Outside 1900–2100 a moment is a typing mistake, and PostgreSQL refuses year 0000 and zone offsets past 15:59
// with an error; no zone on Earth is further than 14 hours from UTC.
const Moment = z.iso
  .datetime({ offset: true, message: 'must be a date and time with a zone, e.g. 2026-03-14T09:30:00Z' })
  .regex(/^(19\d\d|20\d\d|2100)-/, 'must be between 1900 and 2100')
  .regex(/(Z|[+-](0\d|1[0-5]):[0-5]\d)$/, 'the zone offset must be between -15:59 and +15:59')
  .meta({ format: 'date-time', example: '2026-03-14T00:00:00Z' })

const Order = z.enum(['newest', 'oldest']).default('newest').meta({ description: 'newest first (the default) or oldest first' })

export const AuditActor = z
  .object({
    key_id: z.uuid().nullable().meta({ description: 'The API key that made the change; null for the keys command and the system' }),
    key_prefix: z.string().nullable(),
    organisation_id: z.uuid().nullable().meta({ description: 'The organisation of that key' }),
    organisation: z.string().nullable().meta({ description: 'Its name' }),
    role: z.string().meta({
      description: 'The key’s role (admin, editor), cli for npm run keys and other scripts run on the server, or system for writes that name no actor (migrations, SQL run by hand)',
      example: 'editor',
    }),
  })
  .meta({ id: 'AuditActor' })

const Snapshot = z
  .record(z.string(), z.unknown())
  .nullable()
  .meta({ description: 'The row as stored (a provider’s location as GeoJSON); masked for callers who may not see its exact location' })

export const AuditEntry = z
  .object({
    id: z.number().int().meta({ description: 'Increases with every entry' }),
    at: z.string().meta({ description: 'When the change was made (the start of its transaction, UTC)' }),
    actor: AuditActor,
    request_id: z.string().nullable().meta({ description: 'The X-Request-Id of the request that made the change' }),
    entity: AuditedEntity,
    entity_id: z.string(),
    action: z.string().meta({ description: 'create, update, close, revoke… (what the writer named it)', example: 'update' }),
    before: Snapshot.meta({ description: 'The row before the change; null for a creation' }),
    after: Snapshot.meta({ description: 'The row after the change; null for a deletion' }),
  })
  .meta({
    id: 'AuditEntry',
    example: {
      id: 4127,
      at: '2026-03-14T09:30:00.123456Z',
      actor: {
        key_id: '2b7c9e1a-3d4f-4a5b-8c6d-7e8f9a0b1c2d',
        key_prefix: 'setu_Qm9vX3y',
        organisation_id: '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b',
        organisation: 'Rights Jessore',
        role: 'editor',
      },
      request_id: 'req-1f',
      entity: 'provider',
      entity_id: '9d2e7f44-2b6c-4e0a-8f3d-6a1b2c3d4e5f',
      action: 'update',
      before: { phones: ['+8801700000000'], version: 3 },
      after: { phones: ['+8801711111111'], version: 4 },
    },
  })
export type AuditEntry = z.infer<typeof AuditEntry>

export const AuditPage = Page(AuditEntry, 'AuditPage')

export const AuditQuery = z.strictObject({
  entity: AuditedEntity.optional(),
  entity_id: z.uuid().optional().meta({ description: 'Entries about this row (every audited row has a UUID)' }),
  org: z.uuid().optional().meta({ description: 'Changes made by keys of this organisation (its id)' }),
  since: Moment.optional().meta({ description: 'Changes made at or after this moment (ISO 8601 with a zone)' }),
  until: Moment.optional().meta({ description: 'Changes made before this moment (ISO 8601 with a zone)' }),
  order: Order,
  limit: Limit(50, 500),
  cursor: CursorParam.optional(),
})
export type AuditQuery = z.infer<typeof AuditQuery>

export const HistoryQuery = z.strictObject({
  order: Order,
  limit: Limit(50, 500),
  cursor: CursorParam.optional(),
})
export type HistoryQuery = z.infer<typeof HistoryQuery>

export const ProviderIdParams = IdParams('9d2e7f44-2b6c-4e0a-8f3d-6a1b2c3d4e5f')
