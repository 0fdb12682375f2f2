// A setu provider as an Open Referral HSDS 3.0 service record (schema/compiled/service.json of the specification):
// one service per provider, nested with the organization that offers it, its one physical location (through
// service_at_locations), phones, languages, schedules and service areas. What HSDS has no field for (categories,
// kind, MOU status per category, verification method, location visibility and masking, the owning setu
// organisation, funding end, capacity, eligibility, the names in other scripts, the services) travels as
// `attributes` whose taxonomy terms are setu's own (taxonomy "setu", see SETU_TERMS), never as invented top-level
// fields. A setu import recognises them (hsds/import.ts), so that a directory exported and imported round-trips.
//
// Ids are stable across exports: the service id is the provider id; every other record's id is derived from the
// provider id and the record's role (idOf), so a re-export names the same records the same way.
// The provider handed in has already been shown to its viewer (lib/location-visibility.ts): a masked location comes
// with the approximate point or none and no address, and so does the HSDS location.
import { createHash } from 'node:crypto'
import type { Provider } from '../providers/schemas.js'

/** The namespace of every id derived here: uuidV5('https://setu.example/hsds', URL namespace). Never change it. */
export const SETU_HSDS_NAMESPACE = 'd9c4c5f7-231e-5a20-a6db-6a97431030c0'

const hex = (uuid: string) => Buffer.from(uuid.replace(/-/g, ''), 'hex')

/** A name-based UUID, version 5 (SHA-1), of `name` in `namespace`. */
export function uuidV5(name: string, namespace = SETU_HSDS_NAMESPACE): string {
  const hash = createHash('sha1').update(hex(namespace)).update(name, 'utf8').digest()
  const b = hash.subarray(0, 16)
  b[6] = (b[6] & 0x0f) | 0x50
  b[8] = (b[8] & 0x3f) | 0x80
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

// SHA-1 of each role, kept for the roles seen (a few per category, area and phone position): hashing every id
// afresh was a fifth of a 100,000-provider HSDS export's time. Roles that name a value (external ids, dates,
// organisation ids) make the set open: once it holds ROLE_CACHE_SIZE roles, new ones are hashed without being kept.
// (Emptying it when full, as before, threw the few common roles away with the rest every 50,000 roles.)
const ROLE_CACHE_SIZE = 50_000
const roleHashes = new Map<string, Buffer>()
function roleHash(role: string): Buffer {
  let h = roleHashes.get(role)
  if (!h) {
    h = createHash('sha1').update(hex(SETU_HSDS_NAMESPACE)).update(role, 'utf8').digest().subarray(0, 16)
    if (roleHashes.size < ROLE_CACHE_SIZE) roleHashes.set(role, h)
  }
  return h
}

/**
 * The id of a provider's derived record, e.g. idOf(p, 'organization'), idOf(p, 'phone', 0): the provider id's bits
 * XOR the SHA-1 of the role in setu's namespace, marked as an RFC 9562 version 8 (custom) UUID. Distinct roles
 * give one provider distinct ids; the same provider and role always the same id.
 */
export function idOf(providerId: string, ...role: Array<string | number>): string {
  return idsOf(providerId)(...role)
}

/** idOf for one provider: its id's bytes parsed once for every record derived from it. */
export function idsOf(providerId: string): (...role: Array<string | number>) => string {
  const base = hex(providerId)
  const b = Buffer.alloc(16)
  return (...role) => {
    const h = roleHash(role.join('/'))
    for (let i = 0; i < 16; i++) b[i] = base[i] ^ h[i]
    b[6] = (b[6] & 0x0f) | 0x80
    b[8] = (b[8] & 0x3f) | 0x80
    const x = b.toString('hex')
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`
  }
}

/**
 * setu's taxonomy terms: each attribute names its term by taxonomy_term_id (termId: fixed) and by link_type (the
 * term's code), and holds the fact in value. A term per fact (not per value), so a reader finds e.g. every
 * provider's MOU status under one term. The terms are not repeated in every attribute (they were half of a record).
 */
export const SETU_TERMS = {
  category: 'Service category (health, legal, counselling, shelter, livelihood)',
  kind: 'Kind of provider',
  location_visibility: 'Location visibility (exact, approximate, hidden)',
  location_masked: 'Location not shown exactly in this export',
  organisation_id: 'setu organisation that maintains the entry',
  mou_status: 'MOU status, category:status',
  verified_on: 'Last verified (date)',
  verification_method: 'How last verified',
  verified_by: 'Who last verified',
  funded_until: 'Funding end (date)',
  capacity: 'Capacity, e.g. beds',
  eligible_gender: 'Gender served',
  requires: 'Document required',
  cost: 'Cost (free, subsidised, paid)',
  name: 'Name in another language or script, language:name (e.g. bn:…)',
  service: 'A service offered, as the JSON text of setu’s {category, name, description}',
} as const
export type SetuTerm = keyof typeof SETU_TERMS

const LANGUAGE_NAMES: Record<string, string> = { bn: 'Bangla', km: 'Khmer', en: 'English', hi: 'Hindi', my: 'Burmese', th: 'Thai', ur: 'Urdu' }

/** HSDS service status for setu's provider status. */
export const HSDS_STATUS = { active: 'active', suspended: 'temporarily closed', closed: 'defunct' } as const

type Json = Record<string, unknown>
type Ids = ReturnType<typeof idsOf>

// HSDS's fields are typed without null: an absent value is left undefined, which JSON.stringify leaves out
// (cheaper than building each object again without its empty fields, which a large export felt).
const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v)

/** The fixed id of each setu term. */
export const TERM_IDS = Object.fromEntries(Object.keys(SETU_TERMS).map((term) => [term, uuidV5(`setu-term/${term}`)])) as Record<SetuTerm, string>

/** The setu taxonomy as HSDS taxonomy_term records (for a reader that wants the terms themselves). */
export const SETU_TAXONOMY_TERMS = (Object.keys(SETU_TERMS) as SetuTerm[]).map((term) => ({
  id: TERM_IDS[term],
  code: term,
  name: term,
  description: SETU_TERMS[term],
  taxonomy: 'setu',
}))

function attribute(providerId: string, ids: Ids, term: SetuTerm, value: string, key: string | number = value): Json {
  return {
    id: ids('attribute', term, key),
    link_id: providerId,
    link_type: term,
    link_entity: 'service',
    taxonomy_term_id: TERM_IDS[term],
    value,
  }
}

function attributesOf(p: Provider, ids: Ids): Json[] {
  const out: Json[] = []
  // key: what names the attribute in its id (by default its value).
  const add = (term: SetuTerm, value: string | number | boolean | null | undefined, key?: string | number) => {
    if (value !== null && value !== undefined) out.push(attribute(p.id, ids, term, String(value), key))
  }
  for (const c of p.categories) add('category', c)
  add('kind', p.kind)
  add('location_visibility', p.location_visibility)
  add('location_masked', p.location_masked)
  add('organisation_id', p.organisation_id)
  for (const [c, status] of Object.entries(p.mou_status)) add('mou_status', `${c}:${status}`)
  add('verified_on', p.verification?.on)
  add('verification_method', p.verification?.method)
  add('verified_by', p.verification?.by)
  add('funded_until', p.funded_until)
  add('capacity', p.capacity)
  for (const g of p.eligibility.genders) add('eligible_gender', g)
  for (const r of p.eligibility.requires) add('requires', r)
  add('cost', p.cost)
  // What a setu import reads back (hsds/import.ts), so that a record exported and imported again is the same provider.
  // Named by language and position, not by the text: few distinct roles, so their hashes stay cached (idsOf).
  for (const [lang, name] of Object.entries(p.names)) add('name', `${lang}:${name}`, lang)
  p.services.forEach((service, i) => add('service', JSON.stringify(service), i))
  return out
}

/** ISO 3166-1 alpha-2 from a pcode (BD…, KH…). */
const countryOf = (pcode: string | undefined) => (pcode && /^[A-Z]{2}/.test(pcode) ? pcode.slice(0, 2) : '')

function addressOf(p: Provider, ids: Ids, locationId: string): Json | undefined {
  if (!p.address) return undefined
  const at = (level: number) => p.areas.find((a) => a.admin_level === level)?.name_en
  const deepest = p.areas[p.areas.length - 1]
  return {
    id: ids('address'),
    location_id: locationId,
    address_1: p.address,
    city: at(3) ?? deepest?.name_en ?? '',
    region: at(2),
    state_province: at(1) ?? '',
    postal_code: '',
    country: countryOf(p.areas[0]?.pcode),
    address_type: 'physical',
  }
}

function locationOf(p: Provider, ids: Ids, organizationId: string): Json {
  const id = ids('location')
  const address = addressOf(p, ids, id)
  return {
    id,
    location_type: 'physical',
    organization_id: organizationId,
    name: p.name,
    description: p.location_masked
      ? p.location
        ? 'Approximate location: the representative point of the smallest known area containing the provider. Call before visiting.'
        : 'The location is confidential.'
      : undefined,
    latitude: p.location?.lat,
    longitude: p.location?.lon,
    addresses: address ? [address] : undefined,
  }
}

function eligibilityText(p: Provider): string | undefined {
  const e = p.eligibility
  const parts: string[] = []
  if (e.genders.length) parts.push(`genders: ${e.genders.join(', ')}`)
  if (e.min_age !== null || e.max_age !== null) parts.push(`ages: ${e.min_age ?? 0}–${e.max_age ?? 'any'}`)
  if (e.requires.length) parts.push(`requires: ${e.requires.join(', ')}`)
  return parts.length ? parts.join('; ') : undefined
}

/** The HSDS 3.0 service record of one provider, as shown to the viewer it was read for. */
export function hsdsServiceOf(p: Provider): Json {
  const ids = idsOf(p.id)
  const organizationId = ids('organization')
  const alternate = Object.entries(p.names).find(([lang, n]) => lang === 'en' && n !== p.name)?.[1]
  const description =
    p.services.map((s) => `${s.name} (${s.category})${s.description ? `: ${s.description}` : ''}`).join('. ') ||
    `${p.kind} providing ${p.categories.join(', ')}`
  const location = locationOf(p, ids, organizationId)
  return {
    id: p.id,
    organization_id: organizationId,
    name: p.name,
    alternate_name: alternate,
    description,
    url: opt(p.website),
    email: opt(p.email),
    status: HSDS_STATUS[p.status],
    fees_description: p.cost ?? undefined,
    eligibility_description: eligibilityText(p),
    minimum_age: opt(p.eligibility.min_age),
    maximum_age: opt(p.eligibility.max_age),
    assured_date: p.verification?.on,
    last_modified: p.updated_at,
    phones: p.phones.map((number, i) => ({ id: ids('phone', i), service_id: p.id, number })),
    schedules: p.opening_hours ? [{ id: ids('schedule'), service_id: p.id, description: p.opening_hours }] : [],
    service_areas: p.areas.map((a) => ({
      id: ids('service_area', a.pcode),
      service_id: p.id,
      name: a.name_en,
      description: `The provider lies in this area (pcode ${a.pcode}, admin level ${a.admin_level})`,
      extent_type: 'pcode',
      extent: a.pcode,
    })),
    service_at_locations: [{ id: ids('service_at_location'), service_id: p.id, location_id: location.id, location }],
    languages: p.languages.map((tag) => {
      const code = tag.split('-')[0].toLowerCase()
      return { id: ids('language', tag), service_id: p.id, code, name: LANGUAGE_NAMES[code], note: tag === code ? undefined : tag }
    }),
    organization: {
      id: organizationId,
      name: p.name,
      alternate_name: alternate,
      description: `${p.kind} in the setu directory of services for survivors of human trafficking`,
      email: opt(p.email),
      website: opt(p.website),
      organization_identifiers: p.external_ids.map((x) => ({
        id: ids('organization_identifier', x.scheme, x.id),
        organization_id: organizationId,
        identifier_scheme: x.scheme,
        identifier_type: x.scheme,
        identifier: x.id,
      })),
    },
    attributes: attributesOf(p, ids),
  }
}
