import { z } from 'zod'
import { requireChange } from '../../lib/patch.js'
import { CursorParam, Limit, Page } from '../../lib/pagination.js'
import { FormatParam } from '../../lib/geojson.js'
import { Categories as CategoryList, Category, IdParams, IsoDate, Pcode } from '../../lib/vocabulary.js'
import { FreeText } from '../../lib/text.js'
import { LOCATION_VISIBILITIES } from '../../lib/location-visibility.js'
export { IfMatchHeaders } from '../../lib/if-match.js'
import { LINK_HEALTHS, REASON_CODES } from './health.js'

export const LinkBasis = z.enum(['mou', 'sop', 'informal', 'court_order']).meta({
  description: 'What the link rests on: an MOU, a standard operating procedure, an informal arrangement or a court order',
  example: 'mou',
})
export const LinkStatus = z.enum(['active', 'inactive']).meta({ example: 'active' })
export const LinkHealth = z.enum(LINK_HEALTHS).meta({
  description: 'Computed on read: broken when any broken reason applies, at_risk when only at-risk reasons apply, else ok',
  example: 'at_risk',
})

const exampleFrom = '5b0c6c1e-4f1a-4c53-9a51-0d3c1f0e7a01'

/** The focal point the examples of links, pathways and networks start from. */
export const linkEndExample = {
  id: exampleFrom,
  name: 'CTC Jhikargacha',
  kind: 'focal_point',
  status: 'active',
  categories: ['counselling'],
  location: { lat: 23.1, lon: 89.1 },
  location_visibility: 'exact',
  location_masked: false,
}
const exampleTo = '9d2e7f44-2b6c-4e0a-8f3d-6a1b2c3d4e5f'
const exampleLink = '1f4e2d3c-7b6a-4c5d-8e9f-0a1b2c3d4e5f'

export const HealthReason = z
  .object({
    code: z.enum(REASON_CODES),
    severity: z.enum(['broken', 'at_risk']),
    provider_id: z.uuid().meta({ description: 'The provider the reason is about (the receiving one for MOU reasons)' }),
    detail: z.string(),
    date: IsoDate.optional().meta({ description: 'The date that triggers the reason (funding end, last verification, MOU expiry)' }),
    mou_id: z.uuid().optional(),
    categories: z.array(Category).optional(),
  })
  .meta({
    id: 'LinkHealthReason',
    example: {
      code: 'to_funding_ends_soon',
      severity: 'at_risk',
      provider_id: exampleTo,
      detail: 'funding of the receiving provider Legal Aid Jessore ends on 2026-12-31',
      date: '2026-12-31',
    },
  })

export const LinkEnd = z
  .object({
    id: z.uuid(),
    name: z.string(),
    kind: z.string(),
    status: z.string(),
    categories: z.array(Category),
    location: z.object({ lat: z.number(), lon: z.number() }).nullable().meta({
      description:
        'The point shown to you: the real one, or for a confidential provider whose exact location you may not see ' +
        '(location_masked) the representative point of the smallest area containing it (approximate) or null (hidden)',
    }),
    location_visibility: z.enum(LOCATION_VISIBILITIES).meta({
      description:
        'How precisely the provider lets its location be shown to callers outside its organisation: exact, approximate ' +
        '(an area’s representative point, no address) or hidden (no point)',
      example: 'exact',
    }),
    location_masked: z.boolean().meta({
      description: 'True when `location` is not the real point (approximate or hidden, and you may not see it exactly)',
    }),
  })
  .meta({
    id: 'LinkEnd',
    description:
      'A provider at one end of a referral link. Admins, analysts and editors of the provider’s organisation see every ' +
      'location exactly; everyone else sees confidential providers masked.',
    example: linkEndExample,
  })
export type LinkEnd = z.infer<typeof LinkEnd>

export const ReferralLink = z
  .object({
    id: z.uuid(),
    from_provider_id: z.uuid(),
    to_provider_id: z.uuid(),
    from_provider: LinkEnd,
    to_provider: LinkEnd,
    categories: z.array(Category).meta({ description: 'What is referred along the link' }),
    basis: LinkBasis,
    status: LinkStatus,
    established_on: IsoDate.nullable(),
    last_used_on: IsoDate.nullable(),
    notes: z.string().nullable(),
    health: LinkHealth,
    health_reasons: z.array(HealthReason).meta({ description: 'Every reason that applies, broken ones first' }),
    created_at: z.string(),
    updated_at: z.string(),
    version: z.number().int(),
  })
  .meta({
    id: 'ReferralLink',
    example: {
      id: exampleLink,
      from_provider_id: exampleFrom,
      to_provider_id: exampleTo,
      from_provider: linkEndExample,
      to_provider: {
        id: exampleTo,
        name: 'Legal Aid Jessore',
        kind: 'ngo',
        status: 'active',
        categories: ['legal', 'counselling'],
        location: { lat: 23.17, lon: 89.21 },
        location_visibility: 'exact',
        location_masked: false,
      },
      categories: ['legal'],
      basis: 'mou',
      status: 'active',
      established_on: '2024-03-01',
      last_used_on: '2026-10-02',
      notes: null,
      health: 'at_risk',
      health_reasons: [
        {
          code: 'to_funding_ends_soon',
          severity: 'at_risk',
          provider_id: exampleTo,
          detail: 'funding of the receiving provider Legal Aid Jessore ends on 2026-12-31',
          date: '2026-12-31',
        },
      ],
      created_at: '2026-11-01T09:30:00.000000+00:00',
      updated_at: '2026-11-01T09:30:00.000000+00:00',
      version: 1,
    },
  })
export type ReferralLink = z.infer<typeof ReferralLink>

/** A link as listed for one provider: which way it points from that provider. */
export const ProviderReferralLink = ReferralLink.extend({
  direction: z.enum(['incoming', 'outgoing']),
}).meta({ id: 'ProviderReferralLink' })

export const ReferralLinkPage = Page(ReferralLink, 'ReferralLinkPage')
export const ProviderReferralLinkPage = Page(ProviderReferralLink, 'ProviderReferralLinkPage')

const Categories = CategoryList()

export const CreateReferralLink = z
  .strictObject({
    from_provider_id: z.uuid().meta({ example: exampleFrom }),
    to_provider_id: z.uuid().meta({ example: exampleTo }),
    categories: Categories.meta({ example: ['legal'] }),
    basis: LinkBasis,
    status: LinkStatus.default('active'),
    established_on: IsoDate.nullable().optional(),
    last_used_on: IsoDate.nullable().optional(),
    notes: FreeText(5000).nullable().optional(),
  })
  .meta({
    id: 'CreateReferralLink',
    example: {
      from_provider_id: exampleFrom,
      to_provider_id: exampleTo,
      categories: ['legal'],
      basis: 'mou',
      established_on: '2024-03-01',
    },
  })
export type CreateReferralLink = z.infer<typeof CreateReferralLink>

export const PatchReferralLink = requireChange(
  z.strictObject({
    categories: Categories.optional(),
    basis: LinkBasis.optional(),
    status: LinkStatus.optional(),
    established_on: IsoDate.nullable().optional(),
    last_used_on: IsoDate.nullable().optional(),
    notes: FreeText(5000).nullable().optional(),
  }),
).meta({ id: 'PatchReferralLink', example: { status: 'inactive', notes: 'donor project ended in June' } })
export type PatchReferralLink = z.infer<typeof PatchReferralLink>

export const LinkIdParams = IdParams(exampleLink)

export const ListReferralLinksQuery = z.strictObject({
  provider: z.uuid().optional().meta({ description: 'Links with this provider at either end', example: exampleFrom }),
  from: z.uuid().optional().meta({ description: 'Links from this provider' }),
  to: z.uuid().optional().meta({ description: 'Links to this provider' }),
  category: Category.optional(),
  basis: LinkBasis.optional(),
  status: LinkStatus.optional(),
  area: Pcode.optional().meta({ description: 'Links with either end inside this area (pcode)', example: 'BD4041' }),
  health: LinkHealth.optional(),
  limit: Limit(50, 500),
  cursor: CursorParam.optional(),
  format: FormatParam.optional(),
})
export type ListReferralLinksQuery = z.infer<typeof ListReferralLinksQuery>

export const ProviderLinksQuery = z.strictObject({
  direction: z.enum(['incoming', 'outgoing']).optional().meta({ description: 'Only incoming or only outgoing links' }),
  health: LinkHealth.optional(),
  status: LinkStatus.optional(),
  limit: Limit(50, 500),
  cursor: CursorParam.optional(),
  format: FormatParam.optional(),
})
export type ProviderLinksQuery = z.infer<typeof ProviderLinksQuery>

export const ProviderIdParams = IdParams(exampleTo)
