// A setu provider as an Open Referral HSDS 3.0 service record (schema/compiled/service.json of the specification):
// one service per provider, nested with the organization that offers it, its one physical location (through
// service_at_locations), phones, languages, schedules and service areas. What HSDS has no field for (categories,
// kind, MOU status per category, verification method, location visibility and masking, the owning setu
// organisation, funding end, capacity, eligibility) travels as `attributes` whose taxonomy terms are setu's own
// (taxonomy "setu", see SETU_TERMS), never as invented top-level fields.
//
// Ids are stable across exports: the service id is the provider id; every other record's id is a name-based UUID
// (RFC 9562 version 5) of the provider id and the record's role, so a re-export names the same records the same way.
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

/** The id of a provider's derived record, e.g. idOf(p, 'organization'), idOf(p, 'phone', 0). */
export const idOf = (providerId: string, ...role: Array<string | number>) => uuidV5([providerId, ...role].join('/'))

/**
 * setu's taxonomy terms, each an HSDS attribute's taxonomy_term; the attribute's value holds the fact.
 * A term per fact (not per value), so a reader finds e.g. every provider's MOU status for health under one term.
 */
export const SETU_TERMS = {
  category: 'A service category of the provider (health, legal, counselling, shelter, livelihood); one attribute per category',
  kind: 'The kind of provider (government, ngo, community_group, survivor_group, private, international, focal_point)',
  location_visibility: 'Who may see the exact location: exact (everyone), approximate (others see an area point), hidden (others see none)',
  location_masked: 'true when this export does not show the real location (approximate point or none, no address)',
  organisation_id: 'The setu organisation that owns and maintains the entry (its editors keep it up to date)',
  mou_status: 'MOU status of one category, as "category:status" (status: signed, negotiating, expired, none)',
  verified_on: 'The date the entry was last verified (YYYY-MM-DD)',
  verification_method: 'How the entry was last verified (field_visit, phone_call, document, self_reported)',
  verified_by: 'Who last verified the entry',
  funded_until: 'The date the funding project ends (YYYY-MM-DD)',
  capacity: 'Capacity, e.g. beds',
  eligible_gender: 'A gender served (none: everyone)',
  requires: 'A document the service requires (formal_identification, court_order, referral_letter)',
  cost: 'free, subsidised or paid',
} as const
export type SetuTerm = keyof typeof SETU_TERMS

const LANGUAGE_NAMES: Record<string, string> = { bn: 'Bangla', km: 'Khmer', en: 'English', hi: 'Hindi', my: 'Burmese', th: 'Thai', ur: 'Urdu' }

/** HSDS service status for setu's provider status. */
export const HSDS_STATUS = { active: 'active', suspended: 'temporarily closed', closed: 'defunct' } as const

type Json = Record<string, unknown>

/** Drops absent (undefined or null) fields: HSDS's fields are typed without null. */
function present<T extends Json>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as T
}

function attribute(providerId: string, term: SetuTerm, value: string): Json {
  return {
    id: idOf(providerId, 'attribute', term, value),
    link_id: providerId,
    link_type: 'setu',
    link_entity: 'service',
    taxonomy_term_id: uuidV5(`setu-term/${term}`),
    value,
    taxonomy_term: { id: uuidV5(`setu-term/${term}`), code: term, name: term, description: SETU_TERMS[term], taxonomy: 'setu' },
  }
}

function attributesOf(p: Provider): Json[] {
  const out: Json[] = []
  const add = (term: SetuTerm, value: string | number | boolean | null | undefined) => {
    if (value !== null && value !== undefined) out.push(attribute(p.id, term, String(value)))
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
  return out
}

/** ISO 3166-1 alpha-2 from a pcode (BD…, KH…). */
const countryOf = (pcode: string | undefined) => (pcode && /^[A-Z]{2}/.test(pcode) ? pcode.slice(0, 2) : '')

function addressOf(p: Provider, locationId: string): Json | undefined {
  if (!p.address) return undefined
  const at = (level: number) => p.areas.find((a) => a.admin_level === level)?.name_en
  const deepest = p.areas[p.areas.length - 1]
  return present({
    id: idOf(p.id, 'address'),
    location_id: locationId,
    address_1: p.address,
    city: at(3) ?? deepest?.name_en ?? '',
    region: at(2),
    state_province: at(1) ?? '',
    postal_code: '',
    country: countryOf(p.areas[0]?.pcode),
    address_type: 'physical',
  })
}

function locationOf(p: Provider, organizationId: string): Json {
  const id = idOf(p.id, 'location')
  const address = addressOf(p, id)
  return present({
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
    attributes: [attribute(p.id, 'location_visibility', p.location_visibility), attribute(p.id, 'location_masked', String(p.location_masked))].map(
      (a) => ({ ...a, id: idOf(p.id, 'location', 'attribute', String(a.value)), link_id: id, link_entity: 'location' }),
    ),
  })
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
  const organizationId = idOf(p.id, 'organization')
  const alternate = Object.entries(p.names).find(([lang, n]) => lang === 'en' && n !== p.name)?.[1]
  const description =
    p.services.map((s) => `${s.name} (${s.category})${s.description ? `: ${s.description}` : ''}`).join('. ') ||
    `${p.kind} providing ${p.categories.join(', ')}`
  const location = locationOf(p, organizationId)
  return present({
    id: p.id,
    organization_id: organizationId,
    name: p.name,
    alternate_name: alternate,
    description,
    url: p.website,
    email: p.email,
    status: HSDS_STATUS[p.status],
    fees_description: p.cost ?? undefined,
    eligibility_description: eligibilityText(p),
    minimum_age: p.eligibility.min_age,
    maximum_age: p.eligibility.max_age,
    assured_date: p.verification?.on,
    last_modified: p.updated_at,
    phones: p.phones.map((number, i) => ({ id: idOf(p.id, 'phone', i), service_id: p.id, number })),
    schedules: p.opening_hours ? [{ id: idOf(p.id, 'schedule'), service_id: p.id, description: p.opening_hours }] : [],
    service_areas: p.areas.map((a) => ({
      id: idOf(p.id, 'service_area', a.pcode),
      service_id: p.id,
      name: a.name_en,
      description: `The provider lies in this area (pcode ${a.pcode}, admin level ${a.admin_level})`,
      extent_type: 'pcode',
      extent: a.pcode,
    })),
    service_at_locations: [{ id: idOf(p.id, 'service_at_location'), service_id: p.id, location_id: location.id, location }],
    languages: p.languages.map((tag) => {
      const code = tag.split('-')[0].toLowerCase()
      return present({ id: idOf(p.id, 'language', tag), service_id: p.id, code, name: LANGUAGE_NAMES[code], note: tag === code ? undefined : tag })
    }),
    organization: present({
      id: organizationId,
      name: p.name,
      alternate_name: alternate,
      description: `${p.kind} in the setu directory of services for survivors of human trafficking`,
      email: p.email,
      website: p.website,
      organization_identifiers: p.external_ids.map((x) => ({
        id: idOf(p.id, 'organization_identifier', x.scheme, x.id),
        organization_id: organizationId,
        identifier_scheme: x.scheme,
        identifier_type: x.scheme,
        identifier: x.id,
      })),
    }),
    attributes: attributesOf(p),
  })
}
