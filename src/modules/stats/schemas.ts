// GET /v1/stats: the directory of one country in numbers, and where each category is missing.
import { z } from 'zod'
import { CATEGORIES, Category } from '../../lib/vocabulary.js'
import { PROVIDER_MOU_STATUSES } from '../mous/repo.js'
import { ProviderKind, ProviderStatus } from '../providers/schemas.js'
import { Country } from '../areas/schemas.js'
import { GapKm } from '../coverage/schemas.js'

export const StatsQuery = z.strictObject({
  country: Country,
  gap_km: GapKm,
})
export type StatsQuery = z.infer<typeof StatsQuery>

const counts = <T extends readonly string[]>(keys: T, description: string) =>
  z.object(Object.fromEntries(keys.map((k) => [k, z.number().int()])) as Record<T[number], z.ZodNumber>).meta({ description })

const byCategory = (description: string) => counts(CATEGORIES, description)

export const Stats = z
  .object({
    country: z.string(),
    as_of: z.string().meta({ description: 'The day the dates were judged against (the server’s today)', example: '2026-05-01' }),
    stale_months: z.number().int().meta({ description: 'VERIFICATION_STALE_MONTHS: verified longer ago than this is stale' }),
    providers: z
      .object({
        total: z.number().int(),
        by_status: counts(ProviderStatus.options, 'Providers by status'),
        by_kind: counts(ProviderKind.options, 'Providers by kind'),
        by_category: byCategory('Providers offering each category (a provider counts once in each of its categories)'),
      })
      .meta({ description: 'Every provider located in one of the country’s areas, whatever its status' }),
    active: z
      .object({
        total: z.number().int(),
        by_category: byCategory('Active providers offering each category'),
        mou_status: z
          .object(Object.fromEntries(CATEGORIES.map((c) => [c, counts(PROVIDER_MOU_STATUSES, `Active ${c} providers by their MOU status for ${c}`)])) as Record<Category, ReturnType<typeof counts<typeof PROVIDER_MOU_STATUSES>>>)
          .meta({ description: 'For each category, its active providers by their MOU status for it (signed: a current signed MOU covers it)' }),
        staleness: z.object({
          never_verified: z.number().int().meta({ description: 'Never verified' }),
          not_verified: z.number().int().meta({ description: 'Last verified more than stale_months months ago' }),
          funding_ended: z.number().int().meta({ description: 'funded_until before as_of' }),
          stale: z.number().int().meta({ description: 'Any of the three (each provider once)' }),
        }),
      })
      .meta({ description: 'Active providers of the country' }),
    gaps: z.object({
      gap_km: z.number(),
      levels: z.array(
        z.object({
          admin_level: z.number().int(),
          areas: z.number().int().meta({ description: 'Areas of this level in the country' }),
          without: byCategory('Areas with no active provider of the category within gap_km of their representative point (providers anywhere count, also across a border)'),
        }),
      ).meta({ description: 'One entry per admin level loaded for the country, shallowest first' }),
    }),
  })
  .meta({
    id: 'Stats',
    example: {
      country: 'BGD',
      as_of: '2026-05-01',
      stale_months: 12,
      providers: {
        total: 3,
        by_status: { active: 2, suspended: 0, closed: 1 },
        by_kind: { government: 0, ngo: 3, community_group: 0, survivor_group: 0, private: 0, international: 0, focal_point: 0 },
        by_category: { health: 2, legal: 1, counselling: 0, shelter: 1, livelihood: 0 },
      },
      active: {
        total: 2,
        by_category: { health: 2, legal: 1, counselling: 0, shelter: 0, livelihood: 0 },
        mou_status: Object.fromEntries(CATEGORIES.map((c) => [c, { signed: 0, negotiating: 0, expired: 0, none: c === 'health' ? 2 : c === 'legal' ? 1 : 0 }])),
        staleness: { never_verified: 1, not_verified: 0, funding_ended: 0, stale: 1 },
      },
      gaps: { gap_km: 25, levels: [{ admin_level: 1, areas: 8, without: { health: 5, legal: 6, counselling: 8, shelter: 8, livelihood: 8 } }] },
    },
  })
export type Stats = z.infer<typeof Stats>
