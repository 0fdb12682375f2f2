import { z } from 'zod'
import { CursorParam, Limit, Page } from '../../lib/pagination.js'
import { Text } from '../../lib/text.js'
import { IdParams, Pcode } from '../../lib/vocabulary.js'
import { Role } from './roles.js'

const exampleOrganisation = '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b'
const exampleKey = '2b7c9e1a-3d4f-4a5b-8c6d-7e8f9a0b1c2d'
const exampleTime = '2026-03-14T09:30:00.000000Z'

const Timestamp = z.string().meta({ description: 'A moment in UTC, ISO 8601 with microseconds', example: exampleTime })

export const OrganisationName = Text({ max: 200 }).meta({
  description: 'The partner’s name, unique across setu',
  example: 'Rights Jessore',
})

export const Organisation = z
  .object({
    id: z.uuid(),
    name: z.string(),
    created_at: Timestamp,
    updated_at: Timestamp,
    version: z.number().int(),
  })
  .meta({
    id: 'Organisation',
    description: 'A partner that owns providers (and through them referral links and MOUs) and holds API keys.',
    example: { id: exampleOrganisation, name: 'Rights Jessore', created_at: exampleTime, updated_at: exampleTime, version: 1 },
  })
export type Organisation = z.infer<typeof Organisation>

export const OrganisationPage = Page(Organisation, 'OrganisationPage')

export const CreateOrganisation = z
  .strictObject({ name: OrganisationName })
  .meta({ id: 'CreateOrganisation', example: { name: 'Rights Jessore' } })
export type CreateOrganisation = z.infer<typeof CreateOrganisation>

export const ListOrganisationsQuery = z.strictObject({
  limit: Limit(50, 500),
  cursor: CursorParam.optional(),
})
export type ListOrganisationsQuery = z.infer<typeof ListOrganisationsQuery>

const keyExample = {
  id: exampleKey,
  organisation_id: exampleOrganisation,
  organisation: 'Rights Jessore',
  role: 'editor',
  areas: ['BD4041'],
  label: 'Jessore field office',
  prefix: 'setu_Qm9vX3y',
  created_at: exampleTime,
  last_used_at: null,
  revoked_at: null,
  version: 1,
} as const

export const ApiKey = z
  .object({
    id: z.uuid(),
    organisation_id: z.uuid(),
    organisation: z.string().meta({ description: 'The organisation’s name' }),
    role: Role,
    areas: z
      .array(z.string())
      .nullable()
      .meta({ description: 'An editor limited to providers inside these areas (pcodes); null: no limit' }),
    label: z.string().nullable(),
    prefix: z.string().meta({ description: 'The first 12 characters of the key: enough to recognise it, never enough to use it' }),
    created_at: Timestamp,
    last_used_at: Timestamp.nullable().meta({ description: 'When the key was last used (kept to the minute)' }),
    revoked_at: Timestamp.nullable(),
    version: z.number().int(),
  })
  .meta({
    id: 'ApiKey',
    description: 'An API key without its secret: only a SHA-256 hash of the key is stored.',
    example: keyExample,
  })
export type ApiKey = z.infer<typeof ApiKey>

export const CreatedApiKey = ApiKey.extend({
  key: z.string().meta({
    description: 'The secret, to send as Authorization: Bearer <key>. Shown in this answer only: it is stored nowhere',
    example: 'setu_Qm9vX3yJ8k1vTn0bq2cH4sLw6dE9fA3gR5tY7uI-pZx',
  }),
}).meta({
  id: 'CreatedApiKey',
  description: 'A new API key with its secret, which cannot be read again.',
  example: { ...keyExample, key: 'setu_Qm9vX3yJ8k1vTn0bq2cH4sLw6dE9fA3gR5tY7uI-pZx' },
})

export const KeyAreas = z
  .array(Pcode)
  .min(1, 'at least one area is needed; leave areas out for no limit')
  .max(100)
  .refine((a) => new Set(a).size === a.length, 'areas must not repeat')
  .meta({
    uniqueItems: true,
    description: 'Editors only: the key writes only providers inside one of these areas (pcodes of any level; each must exist)',
    example: ['BD4041'],
  })

export const CreateApiKey = z
  .strictObject({
    organisation_id: z.uuid().optional().meta({ description: 'The organisation the key belongs to (or name it with organisation)' }),
    organisation: OrganisationName.optional().meta({ description: 'The organisation’s name, instead of organisation_id' }),
    role: Role,
    areas: KeyAreas.optional(),
    label: Text({ max: 200 }).nullable().optional().meta({ description: 'What the key is for, e.g. who holds it', example: 'Jessore field office' }),
  })
  .refine((b) => (b.organisation_id === undefined) !== (b.organisation === undefined), {
    message: 'name the organisation either by organisation_id or by organisation (its name)',
    path: ['organisation_id'],
  })
  .meta({
    id: 'CreateApiKey',
    example: { organisation: 'Rights Jessore', role: 'editor', areas: ['BD4041'], label: 'Jessore field office' },
  })
export type CreateApiKey = z.infer<typeof CreateApiKey>

export const ApiKeyPage = Page(ApiKey, 'ApiKeyPage')

export const ListKeysQuery = z.strictObject({
  organisation: z.uuid().optional().meta({ description: 'Only the keys of this organisation (its id)', example: exampleOrganisation }),
  limit: Limit(50, 500),
  cursor: CursorParam.optional(),
})
export type ListKeysQuery = z.infer<typeof ListKeysQuery>

export const KeyIdParams = IdParams(exampleKey)
export const OrganisationIdParams = IdParams(exampleOrganisation)
