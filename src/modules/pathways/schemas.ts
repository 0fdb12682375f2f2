import { z } from 'zod'
import { Lat, Lon } from '../../lib/geo.js'
import { Category } from '../../lib/vocabulary.js'
import { LinkEnd, linkEndExample, ReferralLink } from '../referral-links/schemas.js'

export const MAX_HOPS = 5
export const MAX_CHAINS = 20

export const PathwaysQuery = z
  .strictObject({
    from: z.uuid().optional().meta({ description: 'Start at this provider', example: '5b0c6c1e-4f1a-4c53-9a51-0d3c1f0e7a01' }),
    lat: Lat.optional(),
    lon: Lon.optional(),
    category: Category.meta({ description: 'The service the survivor needs', example: 'legal' }),
    max_hops: z.coerce.number().int().min(1).max(MAX_HOPS).default(3).meta({ description: `Longest chain (1–${MAX_HOPS} links)`, example: 3 }),
    limit: z.coerce.number().int().min(1).max(MAX_CHAINS).default(5).meta({ description: `Most chains to answer (1–${MAX_CHAINS})`, example: 5 }),
  })
  .superRefine((q, ctx) => {
    const byPoint = q.lat !== undefined || q.lon !== undefined
    if (q.from && byPoint) ctx.addIssue({ code: 'custom', path: ['from'], message: 'give either from or lat and lon, not both' })
    else if (!q.from && !byPoint) ctx.addIssue({ code: 'custom', path: ['from'], message: 'give from, or lat and lon' })
    else if (byPoint && (q.lat === undefined || q.lon === undefined)) {
      ctx.addIssue({ code: 'custom', path: [q.lat === undefined ? 'lat' : 'lon'], message: 'lat and lon go together' })
    }
  })
export type PathwaysQuery = z.infer<typeof PathwaysQuery>

const chainExample = {
  hops: 2,
  distance_m: 14210.4,
  provider_ids: ['5b0c6c1e-4f1a-4c53-9a51-0d3c1f0e7a01', '7a7b7c7d-1111-4222-8333-944455556666', '9d2e7f44-2b6c-4e0a-8f3d-6a1b2c3d4e5f'],
  link_ids: ['1f4e2d3c-7b6a-4c5d-8e9f-0a1b2c3d4e5f', '2a4e2d3c-7b6a-4c5d-8e9f-0a1b2c3d4e5f'],
  providers: [],
  links: [],
}

export const Pathway = z
  .object({
    hops: z.number().int(),
    distance_m: z.number().meta({
      description:
        'Sum of geodesic distances between consecutive providers (their real points), rounded to whole kilometres (a ' +
        'multiple of 1000) when the location of any provider on the chain is masked for you',
    }),
    provider_ids: z.array(z.uuid()),
    link_ids: z.array(z.uuid()),
    providers: z.array(LinkEnd).meta({ description: 'The start, each provider passed and the one offering the category, in order' }),
    links: z.array(ReferralLink).meta({ description: 'The links followed, in order, with their health (ok or at_risk)' }),
  })
  .meta({ id: 'Pathway', example: chainExample })

export const PathwaysResult = z
  .object({
    start: LinkEnd,
    start_distance_m: z
      .number()
      .nullable()
      .meta({
        description:
          'When started from lat/lon: distance from the point to the focal point chosen as start, rounded to whole ' +
          'kilometres when that focal point’s location is masked for you',
      }),
    items: z.array(Pathway),
    next_cursor: z.null().meta({ description: 'Always null: the answer is capped by limit, not paged' }),
  })
  .meta({
    id: 'PathwaysResult',
    example: {
      start: linkEndExample,
      start_distance_m: null,
      items: [chainExample],
      next_cursor: null,
    },
  })
