import { z } from 'zod'
import { requireChange } from '../../lib/patch.js'
import { CursorParam, Limit, Page } from '../../lib/pagination.js'
import { Categories as CategoryList, Category, IdParams, IsoDate, Pcode } from '../../lib/vocabulary.js'
import { FreeText, Text } from '../../lib/text.js'
import { Role } from '../access/roles.js'
import { MOU_STATUSES, PROVIDER_MOU_STATUSES } from './repo.js'


export const MouStatus = z.enum(MOU_STATUSES).meta({
  description:
    'draft → negotiating → signed → expired | terminated. A signed MOU whose expires_on has passed reads as expired.',
  example: 'signed',
})
export const ProviderMouStatus = z.enum(PROVIDER_MOU_STATUSES).meta({ example: 'signed' })
export const CounterpartyLevel = z
  .enum(['national', 'division', 'province', 'district', 'upazila', 'union', 'commune'])
  .meta({ example: 'province' })

const exampleMou = '3c9a1b2d-5e6f-4a7b-8c9d-0e1f2a3b4c5d'
const exampleProvider = '9d2e7f44-2b6c-4e0a-8f3d-6a1b2c3d4e5f'

export const Mou = z
  .object({
    id: z.uuid(),
    provider_id: z.uuid(),
    counterparty: z.string(),
    funding_project: z.string().nullable(),
    counterparty_level: CounterpartyLevel,
    counterparty_area: z.string().nullable(),
    categories: z.array(Category),
    status: MouStatus.meta({ description: 'Effective status: signed with expires_on passed reads as expired' }),
    recorded_status: MouStatus.meta({ description: 'The status as last set by a person, before the expiry date is applied' }),
    signed_on: IsoDate.nullable(),
    expires_on: IsoDate.nullable().meta({ description: 'The last day the agreement holds' }),
    renews_mou_id: z.uuid().nullable(),
    renewed_by_mou_ids: z.array(z.uuid()).meta({ description: 'MOUs created as renewals of this one' }),
    document_ref: z.string().nullable(),
    notes: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    version: z.number().int(),
  })
  .meta({
    id: 'Mou',
    example: {
      id: exampleMou,
      provider_id: exampleProvider,
      counterparty: 'Ministry of Social Affairs, Veterans and Youth Rehabilitation',
      funding_project: 'Safe Return 2024–2026',
      counterparty_level: 'national',
      counterparty_area: null,
      categories: ['shelter', 'health'],
      status: 'signed',
      recorded_status: 'signed',
      signed_on: '2024-07-01',
      expires_on: '2026-12-31',
      renews_mou_id: null,
      renewed_by_mou_ids: [],
      document_ref: 'MoSVY/2024/117',
      notes: null,
      created_at: '2024-07-02T08:00:00.000000+00:00',
      updated_at: '2024-07-02T08:00:00.000000+00:00',
      version: 2,
    },
  })
export type Mou = z.infer<typeof Mou>

export const MouPage = Page(Mou, 'MouPage')

const Categories = CategoryList()

const StatusNote = FreeText(2000).meta({ description: 'Kept with the history entry of this change' })

export const CreateMou = z
  .strictObject({
    counterparty: Text({ max: 300 }),
    funding_project: Text({ min: 0, max: 300 }).nullable().optional(),
    counterparty_level: CounterpartyLevel,
    counterparty_area: Pcode.nullable().optional(),
    categories: Categories,
    status: MouStatus.default('draft'),
    signed_on: IsoDate.nullable().optional(),
    expires_on: IsoDate.nullable().optional(),
    renews_mou_id: z.uuid().nullable().optional().meta({
      description: 'The expired MOU of the same provider this one renews (the only way to renew an expired MOU)',
    }),
    document_ref: Text({ min: 0, max: 300 }).nullable().optional(),
    notes: FreeText(5000).nullable().optional(),
    status_note: StatusNote.optional(),
  })
  .meta({
    id: 'CreateMou',
    example: {
      counterparty: 'Ministry of Social Affairs, Veterans and Youth Rehabilitation',
      funding_project: 'Safe Return 2024–2026',
      counterparty_level: 'national',
      categories: ['shelter', 'health'],
      status: 'signed',
      signed_on: '2024-07-01',
      expires_on: '2026-12-31',
      document_ref: 'MoSVY/2024/117',
    },
  })
export type CreateMou = z.infer<typeof CreateMou>

export const PatchMou = requireChange(
  z.strictObject({
    counterparty: Text({ max: 300 }).optional(),
    funding_project: Text({ min: 0, max: 300 }).nullable().optional(),
    counterparty_level: CounterpartyLevel.optional(),
    counterparty_area: Pcode.nullable().optional(),
    categories: Categories.optional(),
    status: MouStatus.optional(),
    signed_on: IsoDate.nullable().optional(),
    expires_on: IsoDate.nullable().optional(),
    document_ref: Text({ min: 0, max: 300 }).nullable().optional(),
    notes: FreeText(5000).nullable().optional(),
    status_note: StatusNote.optional(),
  }),
  ['status_note'],
).meta({ id: 'PatchMou', example: { status: 'signed', signed_on: '2026-11-20', expires_on: '2028-11-19' } })
export type PatchMou = z.infer<typeof PatchMou>

export const MouChangedBy = z
  .object({
    key_id: z.uuid(),
    key_prefix: z.string().meta({ description: 'The non-secret start of the key, as key lists show it' }),
    organisation_id: z.uuid(),
    organisation: z.string().meta({ description: 'The organisation’s name when the change was made' }),
    role: Role,
  })
  .meta({
    id: 'MouChangedBy',
    description: 'The API key that made a change, with its organisation and role',
    example: {
      key_id: '6f1e2d3c-4b5a-4c6d-8e7f-0a1b2c3d4e5f',
      key_prefix: 'setu_7Kq2xW1',
      organisation_id: '00000000-0000-4000-8000-000000000001',
      organisation: 'setu-demo',
      role: 'editor',
    },
  })

export const MouHistoryEntry = z
  .object({
    status: MouStatus.meta({ description: 'The status after this change' }),
    status_changed: z.boolean().meta({ description: 'False when the change touched other fields only' }),
    changes: z
      .record(z.string(), z.object({ from: z.unknown(), to: z.unknown() }))
      .meta({ description: 'Fields this change set, with their old and new values ({} for creation)' }),
    changed_at: z.string(),
    changed_by: MouChangedBy.nullable().meta({
      description: 'Who made the change; null for changes made outside the API (scripts, the demo loader) and derived entries',
    }),
    note: z.string().nullable(),
    derived: z.boolean().meta({ description: 'True for the expiry that follows from expires_on passing: no one wrote it' }),
  })
  .meta({
    id: 'MouHistoryEntry',
    example: {
      status: 'expired',
      status_changed: true,
      changes: {},
      changed_at: '2027-01-01T00:00:00+00:00',
      changed_by: null,
      note: 'expires_on 2026-12-31 passed',
      derived: true,
    },
  })

export type MouHistoryEntry = z.infer<typeof MouHistoryEntry>

export const MouHistory = Page(MouHistoryEntry, 'MouHistory')

export const MouIdParams = IdParams(exampleMou)
export const ProviderIdParams = IdParams(exampleProvider)

export const ListMousQuery = z.strictObject({
  status: MouStatus.optional().meta({ description: 'Effective status (a date-expired MOU is expired)' }),
  provider: z.uuid().optional(),
  category: Category.optional(),
  area: Pcode.optional()
    .meta({ description: 'MOUs of providers inside this area, or made with a counterparty of this area', example: 'KH12' }),
  expiring_within_days: z.coerce
    .number()
    .int()
    .min(0)
    .max(3650)
    .optional()
    .meta({ description: 'Signed MOUs whose expires_on falls between today and today + N days', example: 60 }),
  limit: Limit(50, 500),
  cursor: CursorParam.optional(),
})
export type ListMousQuery = z.infer<typeof ListMousQuery>
