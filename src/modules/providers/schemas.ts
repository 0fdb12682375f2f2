// The providers API contract: validation, handler types and OpenAPI all come from these schemas.
// Length limits (documented in the schema descriptions): name 300, names values 300, notes 5,000,
// address 1,000, service name 300, service description 2,000, opening_hours 500, phones 50 of 40 chars,
// languages 30, services 100, external_ids 50, email 320, website 2,000, verified_by 300.
import { z } from 'zod'
import { requireChange } from '../../lib/patch.js'
import { Lat, Lon, LatLon, BBoxParam } from '../../lib/geo.js'
import { FormatParam } from '../../lib/geojson.js'
import { CursorParam, Limit, Page } from '../../lib/pagination.js'
import { ProviderMouStatus } from '../mous/schemas.js'
import { Categories, IdParams, IsoDate, Pcode } from '../../lib/vocabulary.js'
import { FreeText, Text, withoutControlCharacters } from '../../lib/text.js'
import { Category } from '../../lib/vocabulary.js'
import { LOCATION_VISIBILITIES } from '../../lib/location-visibility.js'

export { Category, CATEGORIES } from '../../lib/vocabulary.js'
export { IfMatchHeaders } from '../../lib/if-match.js'

export const ProviderKind = z
  .enum(['government', 'ngo', 'community_group', 'survivor_group', 'private', 'international', 'focal_point'])
  .meta({
    id: 'ProviderKind',
    description:
      'focal_point: a community member (Union Parishad or CTC member, teacher, shopkeeper) who identifies and refers survivors',
    example: 'ngo',
  })
export type ProviderKind = z.infer<typeof ProviderKind>

export const ProviderStatus = z
  .enum(['active', 'suspended', 'closed'])
  .meta({ id: 'ProviderStatus', example: 'active' })
export type ProviderStatus = z.infer<typeof ProviderStatus>

export const Cost = z.enum(['free', 'subsidised', 'paid']).meta({ id: 'Cost', example: 'free' })
export const Gender = z.enum(['female', 'male', 'third_gender']).meta({ id: 'Gender', example: 'female' })
export const Requirement = z
  .enum(['formal_identification', 'court_order', 'referral_letter'])
  .meta({ id: 'Requirement', example: 'referral_letter' })
export const VerificationMethod = z
  .enum(['field_visit', 'phone_call', 'document', 'self_reported'])
  .meta({ id: 'VerificationMethod', example: 'field_visit' })

export const LocationVisibility = z.enum(LOCATION_VISIBILITIES).meta({
  id: 'LocationVisibility',
  description:
    'How precisely the location is shown to callers who may not see it exactly (anyone but admins, analysts and ' +
    'editors of the owning organisation): exact: the real point and address; approximate: the representative point ' +
    'of the smallest known area containing it (union or commune where loaded), no address; hidden: no point, no ' +
    'address. Searches and nearest still filter and rank by the real point.',
  example: 'approximate',
})
export type LocationVisibility = z.infer<typeof LocationVisibility>

const LANGUAGE_KEY = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/
// BCP-47 in its common form: language, optional script, region and variants (no private-use or grandfathered tags).
const BCP47 = /^[a-zA-Z]{2,3}(-[a-zA-Z]{4})?(-([a-zA-Z]{2}|[0-9]{3}))?(-([a-zA-Z0-9]{5,8}|[0-9][a-zA-Z0-9]{3}))*$/

const text = (max: number) => Text({ max })

export const Names = z
  .record(z.string().regex(LANGUAGE_KEY, 'names keys must be language codes such as en, bn, km'), text(300))
  .meta({
    description: 'The name in other languages and scripts, keyed by language code; every spelling is searchable by q',
    example: { en: "Women's Support Centre", bn: 'নারী সহায়তা কেন্দ্র' },
  })

export const Service = z
  .strictObject({
    category: Category,
    name: text(300),
    description: FreeText(2000).nullable().optional(),
  })
  .meta({ id: 'Service', example: { category: 'counselling', name: 'Trauma counselling', description: 'Individual sessions in Bangla' } })

export const Eligibility = z
  .strictObject({
    genders: z.array(Gender).max(3).default([]).meta({ description: 'Empty: everyone' }),
    min_age: z.number().int().min(0).max(150).nullable().default(null),
    max_age: z.number().int().min(0).max(150).nullable().default(null),
    requires: z.array(Requirement).max(3).default([]),
  })
  .refine((e) => e.min_age === null || e.max_age === null || e.min_age <= e.max_age, {
    message: 'min_age must not exceed max_age',
    path: ['max_age'],
  })
  .meta({ id: 'Eligibility', example: { genders: ['female'], min_age: 18, max_age: null, requires: [] } })
export type Eligibility = z.infer<typeof Eligibility>

export const Verification = z
  .strictObject({
    on: IsoDate,
    method: VerificationMethod,
    by: Text({ min: 0, max: 300 }).nullable().default(null),
  })
  .meta({
    id: 'Verification',
    description: 'When and how the entry was last confirmed: directories decay',
    example: { on: '2025-03-14', method: 'field_visit', by: 'District coordinator, Jessore' },
  })

export const ExternalId = z
  .strictObject({
    scheme: text(100).regex(/^[^:]+$/, 'scheme must not contain ":"'),
    id: text(300),
  })
  .meta({ id: 'ExternalId', example: { scheme: 'ngoab', id: '2214' } })

// The fields a client writes. Optional fields left out take the defaults in service.ts.
const writableShape = {
  name: text(300).meta({ description: 'The name as the provider calls itself, in any script (max 300)', example: 'নারী সহায়তা কেন্দ্র' }),
  names: Names.optional(),
  kind: ProviderKind,
  categories: Categories().meta({ example: ['health', 'counselling'] }),
  services: z.array(Service).max(100).optional(),
  location: LatLon,
  address: Text({ min: 0, max: 1000, multiline: true }).nullable().optional(),
  phones: z.array(text(40)).max(50).optional(),
  email: z.email().max(320).nullable().optional(),
  website: withoutControlCharacters(z.url().max(2000)).nullable().optional(),
  languages: z
    .array(z.string().regex(BCP47, 'languages must be BCP-47 codes such as bn, km, en-GB'))
    .max(30)
    .optional()
    .meta({ example: ['bn', 'en'] }),
  eligibility: Eligibility.nullable().optional().meta({ description: 'null or absent: everyone, no requirements' }),
  cost: Cost.nullable().optional(),
  capacity: z.number().int().min(0).max(1_000_000).nullable().optional().meta({ description: 'e.g. beds', example: 24 }),
  opening_hours: Text({ min: 0, max: 500 }).nullable().optional().meta({ example: 'Sa-Th 09:00-17:00' }),
  status: ProviderStatus.optional(),
  funded_until: IsoDate.nullable().optional().meta({ description: 'The date the funding project ends, if known', example: '2026-06-30' }),
  verification: Verification.nullable().optional(),
  external_ids: z.array(ExternalId).max(50).optional(),
  notes: FreeText(5000).nullable().optional(),
  location_visibility: LocationVisibility.nullable().optional().meta({
    description:
      'Absent or null: approximate for a provider with the shelter category, exact for any other (decided when the ' +
      'provider is stored; see LocationVisibility)',
  }),
  organisation_id: z.uuid().optional().meta({
    description:
      'The organisation that owns the provider. Absent: the caller’s own. Only an admin may name another ' +
      'organisation; an editor naming another is refused with 403',
    example: '00000000-0000-4000-8000-000000000001',
  }),
}

const inputExample = {
  name: 'নারী সহায়তা কেন্দ্র',
  names: { en: "Women's Support Centre", bn: 'নারী সহায়তা কেন্দ্র' },
  kind: 'ngo',
  categories: ['health', 'counselling'],
  services: [{ category: 'counselling', name: 'Trauma counselling', description: 'Individual sessions in Bangla' }],
  location: { lat: 23.1667, lon: 89.2083 },
  address: 'Jessore Sadar, Jessore',
  phones: ['+8801700000000'],
  languages: ['bn', 'en'],
  eligibility: { genders: ['female'], min_age: 18, max_age: null, requires: [] },
  cost: 'free',
  capacity: 24,
  status: 'active',
  funded_until: '2026-06-30',
  verification: { on: '2025-03-14', method: 'field_visit', by: 'District coordinator' },
  external_ids: [{ scheme: 'ngoab', id: '2214' }],
}

// Component id NewProvider: the type provider names every input-side component `<id>Input`, so `ProviderInput` is taken.
export const ProviderInput = z.strictObject(writableShape).meta({ id: 'NewProvider', example: inputExample })
export type ProviderInput = z.infer<typeof ProviderInput>

// A partial update: absent fields stay, nested objects are replaced whole, null clears a nullable field.
export const ProviderPatch = requireChange(
  z.strictObject({
    name: writableShape.name.optional(),
    names: Names.optional(),
    kind: ProviderKind.optional(),
    categories: writableShape.categories.optional(),
    services: writableShape.services,
    location: LatLon.optional(),
    address: writableShape.address,
    phones: writableShape.phones,
    email: writableShape.email,
    website: writableShape.website,
    languages: writableShape.languages,
    eligibility: writableShape.eligibility,
    cost: writableShape.cost,
    capacity: writableShape.capacity,
    opening_hours: writableShape.opening_hours,
    status: ProviderStatus.optional(),
    funded_until: writableShape.funded_until,
    verification: writableShape.verification,
    external_ids: writableShape.external_ids,
    notes: writableShape.notes,
    location_visibility: LocationVisibility.nullable().optional().meta({
      description: 'null: back to the default for the provider’s categories (approximate for a shelter, exact otherwise)',
    }),
    organisation_id: z.uuid().optional().meta({
      description:
        'Transfers the provider to another organisation: admins only. An editor may only name its own ' +
        'organisation (which changes nothing); naming another is refused with 403',
      example: '00000000-0000-4000-8000-000000000001',
    }),
  }),
).meta({ id: 'ProviderPatch', example: { status: 'suspended', notes: 'Funding paused until July' } })
export type ProviderPatch = z.infer<typeof ProviderPatch>

export const AreaRef = z
  .object({ pcode: z.string(), admin_level: z.number().int(), name_en: z.string() })
  .meta({ id: 'AreaRef', example: { pcode: '4041', admin_level: 2, name_en: 'Jessore' } })

const providerExample = {
  id: '0b7e3a52-52f4-4c57-9a53-1f6f0d3b8f11',
  organisation_id: '00000000-0000-4000-8000-000000000001',
  ...inputExample,
  location_visibility: 'exact',
  location_masked: false,
  email: null,
  website: null,
  opening_hours: null,
  notes: null,
  areas: [
    { pcode: '40', admin_level: 1, name_en: 'Khulna' },
    { pcode: '4041', admin_level: 2, name_en: 'Jessore' },
  ],
  outside_known_areas: false,
  mou_status: { health: 'signed', counselling: 'none', shelter: 'negotiating' },
  created_at: '2025-03-14T09:30:00.000Z',
  updated_at: '2025-03-14T09:30:00.000Z',
  version: 1,
}

export const Provider = z
  .object({
    id: z.uuid(),
    organisation_id: z.uuid().meta({ description: 'The organisation that owns the provider and whose editors maintain it' }),
    name: z.string(),
    names: z.record(z.string(), z.string()),
    kind: ProviderKind,
    categories: z.array(Category),
    services: z.array(z.object({ category: Category, name: z.string(), description: z.string().nullable().optional() })),
    location: z
      .object({ lat: z.number(), lon: z.number() })
      .nullable()
      .meta({
        description:
          'The point shown to you. The real location, unless location_masked: then, for location_visibility ' +
          'approximate, the representative point of the smallest known area containing the provider, and for ' +
          'hidden (or approximate outside every known area) null. Admins, analysts and editors of the owning ' +
          'organisation always see the real point.',
      }),
    location_visibility: LocationVisibility,
    location_masked: z.boolean().meta({
      description:
        'true when this response does not show the real location: location is an approximate point or null, ' +
        'address is null (and distance_m rounded to whole kilometres). Tell users, e.g. “approximate location: ' +
        'call before visiting”.',
      example: false,
    }),
    address: z.string().nullable().meta({ description: 'null when not known, or when location_masked' }),
    phones: z.array(z.string()),
    email: z.string().nullable(),
    website: z.string().nullable(),
    languages: z.array(z.string()),
    eligibility: z.object({
      genders: z.array(Gender),
      min_age: z.number().int().nullable(),
      max_age: z.number().int().nullable(),
      requires: z.array(Requirement),
    }),
    cost: Cost.nullable(),
    capacity: z.number().int().nullable(),
    opening_hours: z.string().nullable(),
    status: ProviderStatus,
    funded_until: z.string().nullable(),
    verification: z.object({ on: z.string(), method: VerificationMethod, by: z.string().nullable() }).nullable(),
    external_ids: z.array(z.object({ scheme: z.string(), id: z.string() })),
    notes: z.string().nullable(),
    areas: z.array(AreaRef).meta({ description: 'Every known area containing the location, shallowest level first' }),
    outside_known_areas: z.boolean().meta({ description: 'true when no known area contains the location' }),
    mou_status: z.record(z.string(), ProviderMouStatus).meta({
      description: 'For each category the provider offers: signed (a current signed MOU covers it), negotiating (a draft or negotiating MOU does), expired (only expired ones do) or none',
    }),
    created_at: z.string(),
    updated_at: z.string(),
    version: z.number().int(),
  })
  .meta({ id: 'Provider', example: providerExample })
export type Provider = z.infer<typeof Provider>

export const NearestProvider = Provider.extend({
  distance_m: z.number().meta({
    description:
      'Geodesic (WGS 84 spheroid) distance from the query point in metres, to the real location. For a provider ' +
      'whose location is masked for you (location_masked), rounded to whole kilometres (a multiple of 1000), so ' +
      'that distances from several points cannot locate it.',
    example: 1834.2,
  }),
}).meta({ id: 'NearestProvider', example: { ...providerExample, distance_m: 1834.2 } })
export type NearestProvider = z.infer<typeof NearestProvider>

export const ProviderPage = Page(Provider, 'ProviderPage')
export const NearestResult = z
  .object({ items: z.array(NearestProvider), next_cursor: z.null().meta({ description: 'Always null: nearest is not paged' }) })
  .meta({ id: 'NearestResult' })

export const ProviderIdParams = IdParams(providerExample.id)

const externalIdParam = Text({ max: 401 })
  .regex(/^[^:]+:.+$/, 'external_id must be scheme:id')
  .transform((v) => {
    const at = v.indexOf(':')
    return { scheme: v.slice(0, at), id: v.slice(at + 1) }
  })
  .meta({ description: 'scheme:id, e.g. ngoab:2214', example: 'ngoab:2214' })

const MouStatusParam = ProviderMouStatus.meta({
  description: 'MOU status for the requested category, or, without a category, for any category the provider offers',
  example: 'signed',
})

/** The filters of the provider list, shared with its export (modules/export): one meaning for both. */
export const listFilterShape = {
  category: Category.optional(),
  kind: ProviderKind.optional(),
  status: ProviderStatus.optional().meta({ description: 'Any status when absent' }),
  area: Pcode.optional().meta({ description: 'A pcode at any admin level', example: 'BD4041' }),
  q: Text({ min: 2, max: 200 }).optional()
    .meta({ description: 'Case-insensitive substring of the name or any of names, in any script', example: 'সহায়তা' }),
  bbox: BBoxParam.optional(),
  lat: Lat.optional(),
  lon: Lon.optional(),
  radius_km: z.coerce.number().positive().max(20_000).optional().meta({ description: 'With lat and lon: within this geodesic distance', example: 10 }),
  funded_after: IsoDate.optional().meta({ description: 'funded_until on or after this date (providers without funded_until do not match)', example: '2025-12-31' }),
  verified_since: IsoDate.optional().meta({ description: 'Last verified on or after this date (never-verified providers do not match)', example: '2025-01-01' }),
  external_id: externalIdParam.optional(),
  mou_status: MouStatusParam.optional(),
}
export type ListFilters = z.infer<z.ZodObject<typeof listFilterShape>>

/** lat, lon and radius_km go together: for a query schema built on listFilterShape. */
export function radiusTogether(q: Pick<ListFilters, 'lat' | 'lon' | 'radius_km'>, ctx: z.RefinementCtx) {
  const given = [q.lat, q.lon, q.radius_km].filter((v) => v !== undefined).length
  if (given !== 0 && given !== 3) {
    ctx.addIssue({ code: 'custom', path: ['radius_km'], message: 'lat, lon and radius_km must be given together' })
  }
}

export const ListQuery = z
  .strictObject({
    ...listFilterShape,
    limit: Limit(50, 500),
    cursor: CursorParam.optional(),
    format: FormatParam.optional(),
  })
  .superRefine(radiusTogether)
export type ListQuery = z.infer<typeof ListQuery>

/**
 * A list of values of `values` to leave out: comma-separated, repeated, or both. Sorted and without repeats, so that
 * the same filter in any order is the same query shape (nearest-json.ts's statement cache).
 */
function exclusionList<T extends string>(name: string, values: z.ZodEnum<{ [K in T]: K }>, max: number) {
  return z.union([z.string(), z.array(z.string()).max(max)]).transform((value, ctx) => {
    const words = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((w) => w.trim())
    const unknown = words.filter((w) => !(values.options as string[]).includes(w))
    if (unknown.length) {
      ctx.addIssue({ code: 'custom', message: `${name} takes ${values.options.join(', ')}; not ${unknown.map((w) => JSON.stringify(w)).join(', ')}` })
      return z.NEVER
    }
    return [...new Set(words as T[])].sort()
  })
}

/** Requirements a survivor cannot meet (no court order, no ID card). */
const NotRequiring = exclusionList('not_requiring', Requirement, 10).meta({
  description:
    'Only providers whose eligibility requires none of these (comma-separated or repeated): e.g. court_order,formal_identification for a survivor without a court order or an ID card',
  example: 'court_order,formal_identification',
})

/** Kinds to leave out: the field page asks for services, not the community focal points who refer to them. */
const NotKind = exclusionList('not_kind', ProviderKind, 10).meta({
  description: 'Only providers of none of these kinds (comma-separated or repeated): e.g. focal_point for services only, without the community focal points who refer to them',
  example: 'focal_point',
})

export const NearestQuery = z.strictObject({
  lat: Lat,
  lon: Lon,
  category: Category.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(5).meta({ description: 'How many providers (1–100)', example: 5 }),
  max_km: z.coerce.number().positive().max(20_000).optional().meta({ description: 'Only providers within this distance', example: 50 }),
  gender: Gender.optional().meta({ description: 'Only providers that serve this gender' }),
  age: z.coerce.number().int().min(0).max(150).optional().meta({ description: 'Only providers that serve this age', example: 17 }),
  cost: Cost.optional(),
  not_requiring: NotRequiring.optional(),
  kind: ProviderKind.optional(),
  not_kind: NotKind.optional(),
  status: ProviderStatus.default('active'),
  mou_status: MouStatusParam.optional(),
  format: FormatParam.optional(),
})
export type NearestQuery = z.infer<typeof NearestQuery>

export const BulkBody = z
  .strictObject({
    // Rows are validated one by one in the service so that every bad row is reported, not just the first.
    providers: z.array(z.unknown()).min(1).max(5000, 'at most 5,000 providers per request').meta({ example: [inputExample] }),
  })
  .meta({ id: 'BulkProviders' })

export const BulkResult = z
  .object({
    created: z.number().int(),
    items: z.array(z.object({ id: z.uuid(), name: z.string() })),
  })
  .meta({ id: 'BulkResult', example: { created: 1, items: [{ id: providerExample.id, name: inputExample.name }] } })
