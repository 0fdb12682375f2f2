import { z } from 'zod'
import { Text } from '../../lib/text.js'
import { Pcode } from '../../lib/vocabulary.js'
import { Lat, Lon, QueryBool } from '../../lib/geo.js'
import { FormatParam, GeoJsonGeometry } from '../../lib/geojson.js'
import { CursorParam, Limit, Page } from '../../lib/pagination.js'

export const Country = z.enum(['BGD', 'KHM']).meta({ id: 'Country', description: 'ISO 3166-1 alpha-3 country code', example: 'BGD' })

export { Pcode }

const RepPoint = z
  .object({ lat: z.number(), lon: z.number() })
  .meta({ id: 'AreaRepPoint', description: 'A point guaranteed to lie inside the area (ST_PointOnSurface)', example: { lat: 23.7806, lon: 90.2794 } })

const summaryExample = {
  pcode: 'BD3026',
  name_en: 'Dhaka',
  name_local: 'ঢাকা',
  country: 'BGD',
  admin_level: 2,
  level_name: 'district',
  parent_pcode: 'BD30',
  source: 'BBS via OCHA COD-AB',
  source_id: null,
  rep_point: { lat: 23.7806, lon: 90.2794 },
}

const summaryShape = {
  pcode: Pcode,
  name_en: z.string().meta({ example: 'Dhaka' }),
  name_local: z.string().nullable().meta({ description: 'Name in Bangla or Khmer', example: 'ঢাকা' }),
  country: Country,
  admin_level: z.number().int().min(1).max(4).meta({ description: '1 = division/province … 4 = union', example: 2 }),
  level_name: z.string().meta({ example: 'district' }),
  parent_pcode: Pcode.nullable().meta({ description: 'Null for level 1', example: 'BD30' }),
  source: z.string().nullable().meta({ description: 'Dataset the boundary came from' }),
  source_id: z.string().nullable().meta({ description: "The source's own id, when it has one" }),
  rep_point: RepPoint,
}

export const AreaSummary = z.object(summaryShape).meta({ id: 'AreaSummary', example: summaryExample })
export type AreaSummary = z.infer<typeof AreaSummary>

export const AreaParent = z
  .object({ pcode: Pcode, name_en: z.string(), admin_level: z.number().int(), level_name: z.string() })
  .meta({ id: 'AreaParent', example: { pcode: 'BD30', name_en: 'Dhaka', admin_level: 1, level_name: 'division' } })

export const Area = z
  .object({
    ...summaryShape,
    parents: z.array(AreaParent).meta({ description: 'The chain of parents from the top level down' }),
    geometry: GeoJsonGeometry.optional().meta({ description: 'MultiPolygon; only with geometry=true' }),
  })
  .meta({
    id: 'Area',
    example: { ...summaryExample, parents: [{ pcode: 'BD30', name_en: 'Dhaka', admin_level: 1, level_name: 'division' }] },
  })
export type Area = z.infer<typeof Area>

export const AreaPage = Page(AreaSummary, 'AreaPage')

export const LocateResult = z
  .object({
    items: z.array(AreaSummary).meta({ description: 'Every area containing the point, deepest level first' }),
    next_cursor: z.null().meta({ description: 'Always null: the answer is never paged' }),
  })
  .meta({ id: 'AreaLocateResult' })

const Geometry = QueryBool.optional().meta({
  description: 'true: include the full MultiPolygon (in JSON for one area; in GeoJSON output instead of the representative point)',
  example: 'false',
})

export const AreaListQuery = z.strictObject({
  country: Country.optional(),
  admin_level: z.coerce.number().int().min(1).max(4).optional().meta({ description: 'Admin level, 1–4', example: 2 }),
  parent: Pcode.optional().meta({ description: 'Only the children of this area (404 when it does not exist)', example: 'BD30' }),
  q: Text({ max: 100 })
    .optional()
    .meta({ description: 'Case-insensitive substring of the English or local name', example: 'dhaka' }),
  limit: Limit(50, 500),
  cursor: CursorParam.optional(),
  geometry: Geometry,
  format: FormatParam.optional(),
})
export type AreaListQuery = z.infer<typeof AreaListQuery>

export const AreaParams = z.strictObject({ pcode: Pcode })

export const AreaQuery = z.strictObject({ geometry: Geometry, format: FormatParam.optional() })

export const LocateQuery = z.strictObject({
  lat: Lat,
  lon: Lon,
})
