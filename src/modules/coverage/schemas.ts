// The coverage API contract: which areas lack which services, as JSON, CSV and GeoJSON.
import { z } from 'zod'
import { Category, CATEGORIES, Pcode } from '../../lib/vocabulary.js'
import { Country } from '../areas/schemas.js'

/** How far an area may be from the nearest active provider of a category before it counts as a gap (coverage, stats). */
export const GapKm = z.coerce
  .number({ error: 'gap_km must be a number' })
  .positive('gap_km must be more than 0')
  .max(1000, 'gap_km must be at most 1000')
  .default(25)
  .meta({ description: 'An area has a gap in a category when no active provider of it is within this many km of the area’s representative point', example: 25 })

export const COVERAGE_FORMATS = ['json', 'csv', 'geojson'] as const
export type CoverageFormat = (typeof COVERAGE_FORMATS)[number]

/** The metrics of one category in one area, in the order of the CSV columns (`<category>_<metric>`). */
export const METRICS = ['active', 'with_mou', 'stale', 'nearest_km', 'gap'] as const

export const CoverageQuery = z.strictObject({
  country: Country,
  admin_level: z.coerce
    .number({ error: 'admin_level must be a number' })
    .int('admin_level must be a whole number')
    .min(1, 'admin_level must be between 1 and 4')
    .max(4, 'admin_level must be between 1 and 4')
    .meta({ description: 'The level of the areas to answer for: 1 division/province … 4 union', example: 2 }),
  parent: Pcode.optional().meta({
    description:
      'Only the areas under this one (any level above admin_level, same country); an unknown pcode is a 404, one ' +
      'of another country or of a level not above admin_level a 400',
    example: 'BD40',
  }),
  category: Category.optional().meta({ description: 'Only this category (absent: all five)' }),
  gap_km: GapKm,
  simplify: z.coerce
    .number({ error: 'simplify must be a number' })
    .min(0, 'simplify must be between 0 and 10000')
    .max(10000, 'simplify must be between 0 and 10000')
    .default(0)
    .meta({
      description:
        'GeoJSON only: simplify the area polygons to this tolerance in metres, shared borders once, so neighbours ' +
        'still meet without gaps or overlaps (0: the polygons as stored)',
      example: 200,
    }),
  format: z
    .enum(COVERAGE_FORMATS)
    .optional()
    .meta({ description: 'json (default), csv (same as Accept: text/csv) or geojson (same as Accept: application/geo+json)' }),
})
export type CoverageQuery = z.infer<typeof CoverageQuery>

export const CategoryCoverage = z
  .object({
    active: z.number().int().meta({ description: 'Active providers of the category inside the area (confidential ones included)', example: 3 }),
    with_mou: z.number().int().meta({ description: 'Of them, those with a currently signed MOU covering the category', example: 1 }),
    stale: z.number().int().meta({
      description:
        'Of them, those never verified, not verified for VERIFICATION_STALE_MONTHS months, or whose funded_until has passed',
      example: 1,
    }),
    nearest_km: z.number().nullable().meta({
      description:
        'Geodesic distance (WGS 84 spheroid) from the area’s representative point to the nearest active provider of ' +
        'the category anywhere, in km to the metre; in whole km when that provider’s location is masked for the ' +
        'caller. null when there is none',
      example: 4.318,
    }),
    gap: z.boolean().meta({ description: 'No active provider of the category within gap_km (by nearest_km as shown)', example: false }),
  })
  .meta({ id: 'CategoryCoverage' })
export type CategoryCoverage = z.infer<typeof CategoryCoverage>

export const AreaCoverage = z
  .object({
    pcode: Pcode,
    name_en: z.string().meta({ example: 'Jessore' }),
    name_local: z.string().nullable().meta({ example: 'যশোর' }),
    parent_pcode: Pcode.nullable().meta({ example: 'BD40' }),
    admin_level: z.number().int().meta({ example: 2 }),
    categories: z
      .partialRecord(Category, CategoryCoverage)
      .meta({ description: 'One entry per category asked for (all five unless category is given)' }),
  })
  .meta({ id: 'AreaCoverage' })
export type AreaCoverage = z.infer<typeof AreaCoverage>

export const Coverage = z
  .object({
    country: Country,
    admin_level: z.number().int(),
    parent: Pcode.nullable(),
    gap_km: z.number(),
    categories: z.array(Category),
    items: z.array(AreaCoverage).meta({ description: 'Every area of the level (under parent), with or without providers, by pcode' }),
    next_cursor: z.null().meta({ description: 'Always null: the answer is never paged' }),
  })
  .meta({ id: 'Coverage' })
export type Coverage = z.infer<typeof Coverage>

/** The CSV (and GeoJSON properties) columns for these categories, in order. */
export const flatColumns = (categories: readonly string[] = CATEGORIES) => [
  'pcode',
  'name_en',
  'name_local',
  'parent_pcode',
  'admin_level',
  ...categories.flatMap((c) => METRICS.map((m) => `${c}_${m}`)),
]

export const CSV_MEDIA_TYPE = 'text/csv'
export const CoverageCsv = z.string().meta({
  description:
    'UTF-8 with a byte-order mark, RFC 4180 (CRLF, fields quoted when needed), one row per area: pcode, name_en, ' +
    'name_local, parent_pcode, admin_level, then for each category <category>_active, _with_mou, _stale, ' +
    '_nearest_km (empty when none), _gap (true/false)',
})
