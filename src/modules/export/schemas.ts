// The directory export's contract: its query (the provider list's filters and a format) and the documented,
// stable column and field lists of each format. Columns are only ever added at the end.
import { z } from 'zod'
import { CATEGORIES, listFilterShape, radiusTogether } from '../providers/schemas.js'

export const EXPORT_FORMATS = ['csv', 'geojson', 'hsds'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

export const ExportQuery = z
  .strictObject({
    ...listFilterShape,
    format: z.enum(EXPORT_FORMATS).default('csv').meta({
      description: 'csv (default): one flat row per provider; geojson: a FeatureCollection; hsds: Open Referral HSDS 3.0 service records',
      example: 'csv',
    }),
  })
  .superRefine(radiusTogether)
export type ExportQuery = z.infer<typeof ExportQuery>

/** The CSV columns, in order, each with what it holds. Lists are joined with ';'. */
export const CSV_COLUMNS = [
  ['id', 'provider id (uuid)'],
  ['name', 'name as the provider calls itself'],
  ['names_bn', 'name in Bangla'],
  ['names_km', 'name in Khmer'],
  ['names_en', 'name in English'],
  ['kind', 'government, ngo, community_group, survivor_group, private, international, focal_point'],
  ['categories', 'categories, ;-separated'],
  ['services', 'services as category:name, ;-separated'],
  ['status', 'active, suspended, closed'],
  ['lat', 'latitude shown (WGS 84); empty when hidden'],
  ['lon', 'longitude shown (WGS 84); empty when hidden'],
  ['location_visibility', 'exact, approximate, hidden'],
  ['location_masked', 'true when lat/lon are not the real location (approximate point or none) and address is empty'],
  ['address', 'address; empty when unknown or masked'],
  ['area_pcodes', 'pcodes of the known areas containing the provider, shallowest first, ;-separated'],
  ['area_names', 'English names of those areas, ;-separated'],
  ['phones', 'phone numbers, ;-separated'],
  ['email', 'email'],
  ['website', 'website'],
  ['languages', 'BCP-47 language codes, ;-separated'],
  ['eligible_genders', 'genders served, ;-separated; empty: everyone'],
  ['min_age', 'minimum age'],
  ['max_age', 'maximum age'],
  ['requires', 'documents required, ;-separated'],
  ['cost', 'free, subsidised, paid'],
  ['capacity', 'capacity, e.g. beds'],
  ['opening_hours', 'opening hours'],
  ['funded_until', 'funding end date (YYYY-MM-DD)'],
  ['verified_on', 'last verified (YYYY-MM-DD)'],
  ['verification_method', 'field_visit, phone_call, document, self_reported'],
  ['verified_by', 'who verified'],
  ['external_ids', 'external ids as scheme:id, ;-separated'],
  ['organisation_id', 'the owning setu organisation (uuid)'],
  ...CATEGORIES.map((c) => [`mou_status_${c}`, `MOU status for ${c} (signed, negotiating, expired, none); empty when the provider does not offer ${c}`] as const),
  ['notes', 'notes'],
  ['created_at', 'created (ISO 8601)'],
  ['updated_at', 'last changed (ISO 8601)'],
  ['version', 'version (the ETag of GET /v1/providers/{id})'],
] as const satisfies ReadonlyArray<readonly [string, string]>

export const CSV_HEADER = CSV_COLUMNS.map(([name]) => name)

/** The GeoJSON properties of each feature: a Provider without location, in this order (id is also the feature id). */
export const GEOJSON_PROPERTIES = [
  'id', 'organisation_id', 'name', 'names', 'kind', 'categories', 'services', 'location_visibility', 'location_masked',
  'address', 'phones', 'email', 'website', 'languages', 'eligibility', 'cost', 'capacity', 'opening_hours', 'status',
  'funded_until', 'verification', 'external_ids', 'notes', 'areas', 'outside_known_areas', 'mou_status', 'created_at',
  'updated_at', 'version',
] as const

// Loose on purpose: the body is HSDS 3.0 (validated against the specification's schema in test/export), which this
// document does not restate; the required fields are named so that a reader of the OpenAPI knows the shape.
const HsdsRecord = z.object({ id: z.uuid() }).catchall(z.unknown())
export const HsdsService = z
  .object({
    id: z.uuid().meta({ description: 'The provider id' }),
    name: z.string(),
    status: z.enum(['active', 'inactive', 'defunct', 'temporarily closed']),
    organization_id: z.uuid(),
    organization: HsdsRecord,
    service_at_locations: z.array(HsdsRecord),
    attributes: z.array(HsdsRecord),
  })
  .catchall(z.unknown())
  .meta({
    id: 'HsdsService',
    description:
      'An Open Referral HSDS 3.0 service record (schema/compiled/service.json of the specification) with its organization, ' +
      'service_at_locations (each with its location), phones, languages, schedules and service_areas nested',
  })
export const HsdsServiceList = z.array(HsdsService).meta({ id: 'HsdsServiceList' })

export const CsvBody = z.string().meta({ description: 'RFC 4180 CSV, UTF-8 with a byte-order mark, a header row' })
