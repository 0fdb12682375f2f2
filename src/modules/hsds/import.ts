// Open Referral HSDS 3.0 in: each HSDS service becomes one setu provider, matched on the external id
// hsds:<service id> (or, for a record setu itself exported without one, on the provider id) and upserted through
// the providers service, so that ownership, areas, versions and the audit trail are exactly those of any other write.
// Records are independent: a bad one is reported with what to fix and changes nothing; the others are imported.
//
// How a service maps (the operation description in openapi/openapi.json says the same):
//   name → name; description → the description of each of its services; status active → active, inactive and
//   temporarily closed → suspended, defunct → closed; minimum_age/maximum_age → eligibility; languages[].code →
//   languages; phones of the service, its service_at_locations, the chosen location and the organization →
//   phones; email and url (else the organization's email and website) → email and website; the HSDS id →
//   external id hsds:<id>.
//   Location: the first service_at_locations[].location with coordinates (physical ones first), else the first of
//   organization.locations; its first address → address. A record without any is rejected: setu places every
//   provider on the map. Any location outside WGS 84 (the specification's examples use latitude 100) is rejected.
//   Categories: from attributes[].taxonomy_term, whose code or name (case and _/- ignored, optional "setu:"
//   prefix) is a setu category or one of its synonyms (CATEGORY_TERMS); else the category query parameter; else,
//   for a provider already imported, its current categories; else the record is rejected.
//   Kind: a taxonomy_term whose code is "kind:<ProviderKind>" (or taxonomy "setu_kind" and code a kind); else, for a
//   new provider, the kind query parameter or ngo; an existing provider keeps its kind.
//   Cost: fees_description when it is exactly one of setu's cost values (free, subsidised, paid; case and
//   surrounding spaces aside). HSDS fees are free text ("Free for survivors, 100 taka otherwise"), which setu
//   cannot read as a cost: then the record states no cost (left as it is on update, none on create).
//   Opening hours: the descriptions of the service's schedules (several joined with "; "); if none has one, those
//   of the service_at_location whose location was chosen, else of the first service_at_location with one. Schedules
//   without a description (RRULE fields alone) are not rendered: the record states no opening hours.
//   setu's own fields that HSDS lacks (notes, location_visibility, eligibility genders and requirements, other
//   external ids) and the cost, opening hours, capacity, funding and verification a record does not state are left
//   as they are on update and take their defaults on create.
//   A record setu exported (hsds/export.ts) carries some of them as attributes of setu's own terms (taxonomy_term_id
//   the term's fixed id): categories, kind, the names in other scripts, the services, eligible genders, documents
//   required, location_visibility, cost, capacity, funded_until and the verification (verified_on,
//   verification_method, verified_by) are read from those, and its organization_identifiers are added to the
//   external ids (never removed). setu's export writes every value a provider has, so such a record states them
//   all: one without a cost, capacity, funded_until or verification attribute, or without a schedule description,
//   is a provider without it, and an import clears it (as it does the names and services). Its cost attribute
//   comes before fees_description. A value setu cannot store rejects the record at its attribute
//   (attributes.<i>.value), with any other error of the record: capacity not a whole number (0 to 1,000,000), a
//   date that is not YYYY-MM-DD (2025-13-40), a cost or method outside setu's values, two different values of one
//   term. A verification is verified_on and verification_method together (verified_by optional): one without the
//   other rejects the record, naming the missing term's id, rather than be dropped, since dropping it would pass
//   the provider off as never verified. Its address is address_1 alone (city, region and country were written
//   from setu's areas, which the import computes again), and a language is its note (the full BCP-47 tag, en-GB)
//   rather than its code. So a directory exported and imported elsewhere is the same directory, and its
//   confidential locations stay confidential.
import { sql } from 'drizzle-orm'
import type { Db } from '../../db/client.js'
import type { Viewer } from '../../lib/location-visibility.js'
import { Problem, unprocessable, type FieldError } from '../../lib/problem.js'
import { CATEGORIES, type Category } from '../../lib/vocabulary.js'
import type { Actor } from '../access/actor.js'
import { DEMO_ORGANISATION_ID } from '../access/keys.js'
import { assertMayWrite, ownerForNew, type OwnedProvider } from '../access/ownership.js'
import { providersRepo } from '../providers/repo.js'
import { LOCATION_VISIBILITIES, type LocationVisibility } from '../../lib/location-visibility.js'
import { Cost, ProviderInput, ProviderKind, Service, VerificationMethod, type Provider } from '../providers/schemas.js'
import { providersService } from '../providers/service.js'
import { HsdsService, type HsdsImportQuery, type HsdsLocation, type ImportReport } from './import-schemas.js'
import { SETU_TERMS, TERM_IDS, type SetuTerm } from './export.js'

export const HSDS_SCHEME = 'hsds'
const SEES_ALL: Viewer = { exact: 'all' }

/** Taxonomy terms (normalised: lower case, _ and - as spaces) that mean each setu category. */
export const CATEGORY_TERMS: Record<Category, string[]> = {
  health: ['health', 'health care', 'healthcare', 'medical', 'medical care', 'clinic', 'hospital'],
  legal: ['legal', 'legal aid', 'legal services', 'legal assistance', 'law', 'justice'],
  counselling: ['counselling', 'counseling', 'psychosocial', 'psychosocial support', 'mental health', 'mental health care'],
  shelter: ['shelter', 'safe house', 'safe shelter', 'emergency shelter', 'housing'],
  livelihood: ['livelihood', 'livelihoods', 'employment', 'income generation', 'vocational training', 'skills training', 'economic empowerment'],
}
const TERM_TO_CATEGORY = new Map(CATEGORIES.flatMap((c) => CATEGORY_TERMS[c].map((term) => [term, c] as const)))

const normalise = (s: string) => s.toLowerCase().replace(/[_-]+/g, ' ').replace(/\s+/g, ' ').trim().replace(/^setu ?: ?/, '')

/** The fields an import writes (and, from a record setu exported, names and location_visibility): everything else of a stored provider is left as it is. */
const IMPORTED = ['name', 'kind', 'categories', 'services', 'location', 'address', 'phones', 'email', 'website', 'languages', 'eligibility', 'status', 'external_ids'] as const
/** The fields a record writes only when it states them (see Mapped.stated): left as they are otherwise. */
const WHEN_STATED = ['cost', 'capacity', 'funded_until', 'verification', 'opening_hours'] as const
type Stated = (typeof WHEN_STATED)[number]
type Imported = Pick<ProviderInput, (typeof IMPORTED)[number]> & Partial<Pick<ProviderInput, 'names' | 'location_visibility' | Stated>>

/** The records of the body: a list, or an HSDS page's contents. */
export const recordsOf = (body: unknown[] | { contents: unknown[] }): unknown[] => (Array.isArray(body) ? body : body.contents)

const issuePath = (path: PropertyKey[]) => path.map(String).join('.')

/** Stable JSON: object keys sorted, absent and undefined as null, so that stored and imported values compare. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, (value as Record<string, unknown>)[k] ?? null]))
      : value,
  )
}

/** What a record setu exported says of the fields HSDS lacks (its setu attributes), absent for any other record. */
interface SetuFacts {
  names: Record<string, string>
  services: NonNullable<ProviderInput['services']>
  genders: string[]
  requires: string[]
  visibility: LocationVisibility | undefined
  /** The organization's identifiers: setu writes its external ids there. */
  externalIds: Array<{ scheme: string; id: string }>
}

interface Mapped {
  id: string
  setu: SetuFacts | undefined
  /** The provider fields, before validation, and where in the record each came from (for error paths). */
  raw: Record<string, unknown>
  /** What the record says of cost, capacity, funding, verification and opening hours: a key only when it says it. */
  stated: Partial<Record<Stated, unknown>>
  /** What of the record could not be read (setu attributes), reported with whatever validation finds besides. */
  unreadable: FieldError[]
  source: Record<string, string>
  termCategories: Category[]
  termKind: ProviderInput['kind'] | undefined
}

function phoneText(n: string | number): string {
  return String(n).trim().replace(/^["']+|["']+$/g, '').trim()
}

function chooseLocation(s: HsdsService): { location: HsdsLocation; path: string } | undefined {
  const candidates: Array<{ location: HsdsLocation; path: string }> = []
  s.service_at_locations?.forEach((sal, i) => {
    if (sal.location) candidates.push({ location: sal.location, path: `service_at_locations.${i}.location` })
  })
  s.organization?.locations?.forEach((l, i) => candidates.push({ location: l, path: `organization.locations.${i}` }))
  const placed = candidates.filter((c) => typeof c.location.latitude === 'number' && typeof c.location.longitude === 'number')
  return placed.find((c) => (c.location.location_type ?? 'physical') === 'physical') ?? placed[0]
}

function addressOf(l: HsdsLocation): string | null {
  const addresses = l.addresses ?? []
  const a = addresses.find((x) => (x as { address_type?: unknown }).address_type === 'physical') ?? addresses[0]
  if (!a) return null
  const parts = [a.address_1, a.address_2, a.city, a.region, a.state_province, a.postal_code, a.country]
    .map((p) => (typeof p === 'string' ? p.trim() : ''))
    .filter((p) => p !== '')
  return parts.length ? parts.join(', ') : null
}

/** One setu attribute's value, and where it is in the record (for error paths). */
interface SetuValue {
  value: string
  path: string
}

/**
 * The values of each setu term among the record's attributes: those whose taxonomy_term_id is the fixed id of the
 * term their link_type names (hsds/export.ts). undefined when there are none: the record is not setu's.
 */
function setuAttributesOf(s: HsdsService): Map<SetuTerm, SetuValue[]> | undefined {
  const facts = new Map<SetuTerm, SetuValue[]>()
  s.attributes?.forEach((a, i) => {
    const term = a.link_type as SetuTerm
    if (typeof term !== 'string' || !Object.hasOwn(SETU_TERMS, term) || a.taxonomy_term_id !== TERM_IDS[term] || typeof a.value !== 'string') return
    facts.set(term, [...(facts.get(term) ?? []), { value: a.value, path: `attributes.${i}.value` }])
  })
  return facts.size ? facts : undefined
}

/** The part of value before its first colon and the rest (bn:নাম → [bn, নাম]). */
const splitPair = (value: string): [string, string] => {
  const at = value.indexOf(':')
  return at < 0 ? [value, ''] : [value.slice(0, at), value.slice(at + 1)]
}

function setuFactsOf(s: HsdsService, attributes: Map<SetuTerm, SetuValue[]>): SetuFacts {
  const all = (term: SetuTerm) => (attributes.get(term) ?? []).map((v) => v.value)
  const services = all('service').flatMap((text) => {
    try {
      const parsed = Service.safeParse(JSON.parse(text))
      return parsed.success ? [parsed.data] : []
    } catch {
      return []
    }
  })
  const visibility = all('location_visibility').find((v): v is LocationVisibility => (LOCATION_VISIBILITIES as readonly string[]).includes(v))
  return {
    names: Object.fromEntries(all('name').map(splitPair)),
    services,
    genders: all('eligible_gender'),
    requires: all('requires'),
    visibility,
    externalIds: (Array.isArray(s.organization?.organization_identifiers) ? (s.organization.organization_identifiers as unknown[]) : []).flatMap((x) => {
      const { identifier_scheme: scheme, identifier: id } = (x ?? {}) as Record<string, unknown>
      return typeof scheme === 'string' && scheme && typeof id === 'string' && id ? [{ scheme, id }] : []
    }),
  }
}

function termsOf(s: HsdsService): { categories: Category[]; kind: ProviderInput['kind'] | undefined } {
  const categories = new Set<Category>()
  let kind: ProviderInput['kind'] | undefined
  for (const a of s.attributes ?? []) {
    const t = a.taxonomy_term
    if (!t) continue
    for (const text of [t.code, t.name]) {
      if (typeof text !== 'string') continue
      const n = normalise(text)
      const c = TERM_TO_CATEGORY.get(n)
      if (c) categories.add(c)
      const k = n.startsWith('kind:') ? n.slice(5).trim().replace(/ /g, '_') : t.taxonomy === 'setu_kind' ? n.replace(/ /g, '_') : undefined
      const parsedKind = k === undefined ? undefined : ProviderKind.safeParse(k)
      if (parsedKind?.success) kind = parsedKind.data
    }
  }
  const setu = setuAttributesOf(s)
  for (const { value: c } of setu?.get('category') ?? []) if ((CATEGORIES as readonly string[]).includes(c)) categories.add(c as Category)
  const setuKind = ProviderKind.safeParse(setu?.get('kind')?.[0]?.value)
  if (setuKind.success) kind = setuKind.data
  // In the record's order, which for a record setu exported is the provider's own: a directory imported into
  // itself again is then unchanged (sorted, a provider stored as [shelter, counselling] came back "updated").
  return { categories: [...categories], kind }
}

/**
 * Cost, capacity, funding and verification from a record setu exported: each the value of its one attribute, null
 * when there is none (setu's export writes every value a provider has, so a missing one is a provider without it).
 * Values stay text where ProviderInput checks them (a date, a cost, a method); what cannot be read is an error here
 * (and its field null, so that validation reports the record's other errors too).
 */
function setuStatedOf(attributes: Map<SetuTerm, SetuValue[]>): { stated: Mapped['stated']; source: Record<string, string>; errors: FieldError[] } {
  const errors: FieldError[] = []
  const source: Record<string, string> = {}
  const one = (term: SetuTerm): SetuValue | undefined => {
    const values = attributes.get(term) ?? []
    if (new Set(values.map((v) => v.value)).size > 1) {
      errors.push({
        path: values.find((v) => v.value !== values[0].value)!.path,
        message: `more than one ${term} attribute (${[...new Set(values.map((v) => JSON.stringify(v.value)))].join(', ')}): a provider has one ${term}, keep the right one`,
      })
    }
    return values[0]
  }
  const cost = one('cost')
  const capacity = one('capacity')
  const fundedUntil = one('funded_until')
  const on = one('verified_on')
  const method = one('verification_method')
  const by = one('verified_by')
  let capacityValue: number | null = null
  if (capacity) {
    source.capacity = capacity.path
    if (/^\s*\d+\s*$/.test(capacity.value)) capacityValue = Number(capacity.value)
    else errors.push({ path: capacity.path, message: `capacity must be a whole number of places such as 24, got ${JSON.stringify(capacity.value)}` })
  }
  if (cost) source.cost = cost.path
  if (fundedUntil) source.funded_until = fundedUntil.path
  // A verification is a date and a method (and maybe who): one without the other is a mistake to show, not to drop,
  // since dropping it would pass the provider off as never verified.
  let verification: { on: string; method: string; by: string | null } | null = null
  if (on && method) {
    verification = { on: on.value, method: method.value, by: by?.value ?? null }
    Object.assign(source, { 'verification.on': on.path, 'verification.method': method.path, ...(by ? { 'verification.by': by.path } : {}) })
  } else if (on || method || by) {
    const given = { verified_on: on, verification_method: method, verified_by: by }
    const present = Object.entries(given).filter(([, v]) => v)
    const missing = (['verified_on', 'verification_method'] as const).filter((term) => !given[term])
    errors.push({
      path: present[0][1]!.path,
      message:
        `a verification needs both verified_on (a date YYYY-MM-DD) and verification_method (${VerificationMethod.options.join(', ')}); ` +
        `this record has ${present.map(([term]) => term).join(' and ')} but no ${missing.join(' and no ')}: add ` +
        `${missing.length > 1 ? 'them as attributes' : 'it as an attribute'} (taxonomy_term_id ${missing.map((term) => TERM_IDS[term]).join(', ')}), ` +
        `or remove ${present.length > 1 ? 'these' : 'this one'} for a provider never verified`,
    })
  }
  return { stated: { cost: cost?.value ?? null, capacity: capacityValue, funded_until: fundedUntil?.value ?? null, verification }, source, errors }
}

/** The description of the record's schedules: the service's, else those of the service_at_location setu placed it by. */
function openingHoursOf(s: HsdsService, locationPath: string): { text: string; path: string } | undefined {
  const describe = (schedules: HsdsService['schedules'], at: string) => {
    const texts = (schedules ?? []).flatMap((x, i) =>
      typeof x.description === 'string' && x.description.trim() ? [{ text: x.description.trim(), path: `${at}.${i}.description` }] : [],
    )
    // Several schedules (weekdays, Saturdays) make one text; a too long one is then the schedules' fault, not one's.
    return texts.length > 1 ? { text: texts.map((x) => x.text).join('; '), path: at } : texts[0]
  }
  const sal = /^service_at_locations\.(\d+)\./.exec(locationPath)
  const salDescribed = (i: number) => describe(s.service_at_locations?.[i]?.schedules, `service_at_locations.${i}.schedules`)
  return (
    describe(s.schedules, 'schedules') ??
    (sal ? salDescribed(Number(sal[1])) : undefined) ??
    (s.service_at_locations ?? []).map((_, i) => salDescribed(i)).find((x) => x)
  )
}

/** The provider fields of one valid HSDS service (kind and categories decided later, knowing the stored provider). */
function mapService(s: HsdsService): Mapped | { errors: FieldError[] } {
  const chosen = chooseLocation(s)
  if (!chosen) {
    return {
      errors: [
        {
          path: 'service_at_locations',
          message:
            'no location with latitude and longitude: setu places every provider on the map, so give the service a ' +
            'service_at_locations[].location (or its organization a location) with WGS 84 coordinates',
        },
      ],
    }
  }
  const l = chosen.location
  const phones = [
    ...(s.phones ?? []),
    ...(s.service_at_locations ?? []).flatMap((sal) => sal.phones ?? []),
    ...(l.phones ?? []),
    ...(s.organization?.phones ?? []),
  ]
    .map((p) => phoneText(p.number))
    .filter((p) => p !== '')
  const setuAttributes = setuAttributesOf(s)
  const setu = setuAttributes && setuFactsOf(s, setuAttributes)
  const setuStated = setuAttributes && setuStatedOf(setuAttributes)
  const stated: Mapped['stated'] = { ...setuStated?.stated }
  const statedSource: Record<string, string> = { ...setuStated?.source }
  // HSDS fees are free text: only setu's own words are a cost. A setu record's cost attribute comes first.
  const fees = typeof s.fees_description === 'string' ? s.fees_description.trim().toLowerCase() : undefined
  const feesCost = Cost.options.find((c) => c === fees)
  if (feesCost && !(setuStated && setuStated.stated.cost !== null)) {
    stated.cost = feesCost
    statedSource.cost = 'fees_description'
  }
  const hours = openingHoursOf(s, chosen.path)
  if (hours) {
    stated.opening_hours = hours.text
    statedSource.opening_hours = hours.path
  } else if (setu) stated.opening_hours = null // setu writes a schedule whenever a provider has opening hours
  // setu writes a tag's language as code and the whole tag (en-GB) as note.
  const languageOf = (x: { code?: string | null; note?: unknown }) => {
    const code = x.code?.trim()
    const note = typeof x.note === 'string' ? x.note.trim() : undefined
    return setu && code && note && note.toLowerCase().startsWith(`${code.toLowerCase()}-`) ? note : code
  }
  const languages = (s.languages ?? []).map(languageOf).filter((c): c is string => !!c)
  const hasAge = s.minimum_age != null || s.maximum_age != null
  const terms = termsOf(s)
  const description = s.description?.trim() ? s.description : null
  const status = s.status == null || s.status === 'active' ? 'active' : s.status === 'defunct' ? 'closed' : 'suspended'
  const email = s.email?.trim() || s.organization?.email?.trim() || null
  const website = s.url?.trim() || s.organization?.website?.trim() || null
  const setuAddress = l.addresses?.[0]?.address_1?.trim()
  return {
    id: s.id,
    setu,
    termCategories: terms.categories,
    termKind: terms.kind,
    stated,
    unreadable: setuStated?.errors ?? [],
    raw: {
      name: s.name,
      location: { lat: l.latitude, lon: l.longitude },
      address: setu ? setuAddress || null : addressOf(l),
      phones: [...new Set(phones)],
      email,
      website,
      languages: [...new Set(languages)],
      eligibility: hasAge ? { genders: [], min_age: s.minimum_age ?? null, max_age: s.maximum_age ?? null, requires: [] } : null,
      status,
      _description: description,
    },
    source: {
      name: 'name',
      location: chosen.path,
      address: `${chosen.path}.addresses`,
      phones: 'phones',
      email: s.email?.trim() ? 'email' : 'organization.email',
      website: s.url?.trim() ? 'url' : 'organization.website',
      languages: 'languages',
      eligibility: 'minimum_age',
      'eligibility.max_age': 'maximum_age',
      services: 'description',
      categories: 'attributes',
      kind: 'attributes',
      status: 'status',
      ...statedSource,
    },
  }
}

function errorsOf(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>, source: Record<string, string>): FieldError[] {
  return issues.map((issue) => {
    const field = String(issue.path[0] ?? '')
    const two = issue.path.slice(0, 2).map(String).join('.')
    const where = source[two] ?? source[field] ?? field
    return { path: where, message: `${issue.message} (setu field ${issuePath(issue.path) || 'record'})` }
  })
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

type Outcome = 'created' | 'updated' | 'unchanged' | FieldError[]

/** A record read and mapped, or why it cannot be. */
function prepare(record: unknown): { parsed: HsdsService; mapped: Mapped } | FieldError[] {
  const parsed = HsdsService.safeParse(record)
  if (!parsed.success) return parsed.error.issues.map((i) => ({ path: issuePath(i.path) || 'record', message: i.message }))
  const mapped = mapService(parsed.data)
  return 'errors' in mapped ? mapped.errors : { parsed: parsed.data, mapped }
}

/**
 * The provider a record describes, validated: new (no current) or over the stored `current`, whose fields HSDS does
 * not carry stay; `matchedById` when the record names the provider by its setu id (no hsds external id is added).
 */
function inputFor(
  { parsed, mapped }: { parsed: HsdsService; mapped: Mapped },
  q: HsdsImportQuery,
  current?: Provider,
  matchedById = false,
): Imported | FieldError[] {
  const categories = mapped.termCategories.length ? mapped.termCategories : q.category ? [q.category] : current?.categories
  if (!categories?.length) {
    return [
      {
        path: 'attributes',
        message:
          `no setu category: give the service an attribute whose taxonomy_term code or name is one of ${CATEGORIES.join(', ')} ` +
          '(or a synonym such as legal aid, mental health, safe house), or pass the category query parameter',
      },
    ]
  }
  const { _description: description, ...raw } = mapped.raw
  const externalIds = current ? [...current.external_ids] : []
  const has = (x: { scheme: string; id: string }) => externalIds.some((e) => e.scheme === x.scheme && e.id === x.id)
  // A setu record's external ids are added to the stored ones, never removed.
  for (const x of mapped.setu?.externalIds ?? []) if (!has(x)) externalIds.push(x)
  if (!matchedById && !externalIds.some((e) => e.scheme === HSDS_SCHEME && e.id === mapped.id)) {
    externalIds.push({ scheme: HSDS_SCHEME, id: mapped.id })
  }
  const setu = mapped.setu
  const setuServices = setu?.services.filter((sv) => categories.includes(sv.category))
  const ages = { min_age: parsed.minimum_age ?? null, max_age: parsed.maximum_age ?? null }
  const input = {
    ...raw,
    kind: mapped.termKind ?? current?.kind ?? q.kind ?? 'ngo',
    categories,
    // A setu record lists its services (none, maybe); any other is one service per category, named after it.
    services: setu ? setuServices : categories.map((category) => ({ category, name: mapped.raw.name, description })),
    // Ages are the record's; genders and requirements (which HSDS does not state) stay as stored, unless setu's own
    // attributes state them.
    eligibility: setu
      ? { genders: setu.genders, ...ages, requires: setu.requires }
      : current
        ? { ...current.eligibility, ...ages }
        : raw.eligibility,
    external_ids: externalIds,
    ...(setu ? { names: setu.names } : {}),
    ...(setu?.visibility ? { location_visibility: setu.visibility } : {}),
    ...mapped.stated,
  }
  const valid = ProviderInput.safeParse(input)
  if (!valid.success) return [...mapped.unreadable, ...errorsOf(valid.error.issues, mapped.source)]
  if (mapped.unreadable.length) return mapped.unreadable
  const keys: ReadonlyArray<keyof ProviderInput> = [
    ...IMPORTED,
    ...(setu ? (['names'] as const) : []),
    ...(setu?.visibility ? (['location_visibility'] as const) : []),
    ...WHEN_STATED.filter((k) => Object.hasOwn(mapped.stated, k)),
  ]
  return Object.fromEntries(keys.map((k) => [k, valid.data[k] ?? null])) as Imported
}

/** A refusal of one record by the providers service (outside the key's areas, …) as the record's errors. */
function refusalOf(e: unknown, source: Record<string, string>): FieldError[] {
  if (!(e instanceof Problem) || e.status < 400 || e.status >= 500) throw e
  return (e.extra.errors?.length ? e.extra.errors : [{ path: '', message: e.detail ?? e.title }]).map((err) => ({
    path: err.path.startsWith('location') || e.status === 403 ? source.location : err.path || 'record',
    message: e.detail && e.detail !== err.message ? `${err.message}: ${e.detail}` : err.message,
  }))
}

export function hsdsImporter(db: Db) {
  const providers = providersService(db)
  const repo = providersRepo(db)

  /**
   * For each HSDS id, the provider it was imported as (external id hsds:<id>, through the GIN index on
   * external_ids), else the setu provider whose id it is (a record setu exported without an hsds id).
   */
  async function matchesOf(hsdsIds: string[]): Promise<Map<string, { id: string; byExternalId: boolean }>> {
    const out = new Map<string, { id: string; byExternalId: boolean }>()
    if (hsdsIds.length === 0) return out
    const { rows } = await db.execute<{ hsds_id: string; id: string }>(sql`
      SELECT x.hsds_id, m.id FROM unnest(${sql.param(hsdsIds)}::text[]) AS x (hsds_id)
      CROSS JOIN LATERAL (
        SELECT p.id FROM providers p
        WHERE p.external_ids @> jsonb_build_array(jsonb_build_object('scheme', ${HSDS_SCHEME}::text, 'id', x.hsds_id))
        ORDER BY p.created_at, p.id LIMIT 1) m`)
    for (const r of rows) out.set(r.hsds_id, { id: r.id, byExternalId: true })
    const uuids = hsdsIds.filter((id) => !out.has(id) && UUID.test(id))
    if (uuids.length) {
      const { rows: byId } = await db.execute<{ id: string }>(sql`
        SELECT p.id::text AS id FROM providers p WHERE p.id = ANY (${sql.param(uuids.map((u) => u.toLowerCase()))}::uuid[])`)
      const found = new Set(byId.map((r) => r.id))
      for (const u of uuids) if (found.has(u.toLowerCase())) out.set(u, { id: u.toLowerCase(), byExternalId: false })
    }
    return out
  }

  /** A matched record over its stored provider: refused unless the key may write it, then unchanged or updated. */
  async function upsertOver(
    prepared: { parsed: HsdsService; mapped: Mapped },
    q: HsdsImportQuery,
    actor: Actor,
    match: { id: string; byExternalId: boolean },
    owner: OwnedProvider,
    current: Provider,
  ): Promise<Outcome> {
    try {
      assertMayWrite(actor, owner)
    } catch (e) {
      if (e instanceof Problem && e.status === 403) {
        return [{ path: 'id', message: `matches provider ${match.id}, which this key may not change: ${e.detail ?? e.title}` }]
      }
      throw e
    }
    const patch = inputFor(prepared, q, current, !match.byExternalId)
    if (Array.isArray(patch)) return patch
    const stored = Object.fromEntries(Object.keys(patch).map((k) => [k, current[k as keyof Provider]]))
    if (canonical(stored) === canonical(patch)) return 'unchanged'
    try {
      await providers.update(current.id, patch, actor)
      return 'updated'
    } catch (e) {
      return refusalOf(e, prepared.mapped.source)
    }
  }

  /** Imports one record on its own: matched, checked, compared, then created or updated in its own transaction. */
  async function importOne(record: unknown, q: HsdsImportQuery, actor: Actor, owner: string): Promise<Outcome> {
    const prepared = prepare(record)
    if (Array.isArray(prepared)) return prepared
    const match = (await matchesOf([prepared.mapped.id])).get(prepared.mapped.id)
    if (match) {
      const [stored] = await repo.ownersOf([match.id])
      return upsertOver(prepared, q, actor, match, stored, await providers.get(match.id, SEES_ALL))
    }
    const input = inputFor(prepared, q)
    if (Array.isArray(input)) return input
    try {
      await providers.create({ ...input, organisation_id: owner } as ProviderInput, actor)
      return 'created'
    } catch (e) {
      return refusalOf(e, prepared.mapped.source)
    }
  }

  return {
    /**
     * Imports every record. Records that match no provider and whose id occurs once are created together in one
     * transaction (createMany: one INSERT); should that be refused (an editor's key limited to areas, with a record
     * outside them), they are imported one by one like the rest, so that only the refused ones are rejected. The
     * others (matches, repeated ids) go one by one in order, so that a later record with the same id updates the
     * provider an earlier one created. New providers belong to the caller's organisation unless an admin names one.
     */
    async importHsds(records: unknown[], q: HsdsImportQuery, actor: Actor): Promise<ImportReport> {
      const owner = ownerForNew(actor, q.organisation_id, DEMO_ORGANISATION_ID)
      if (q.organisation_id && (await repo.unknownOrganisations([q.organisation_id])).length) {
        throw unprocessable(`organisation ${q.organisation_id} does not exist; nothing was written`, [
          { path: 'organisation_id', message: `organisation ${q.organisation_id} does not exist` },
        ])
      }
      const report: ImportReport = { created: 0, updated: 0, unchanged: 0, rejected: [] }
      const record = (index: number, outcome: Outcome) => {
        if (Array.isArray(outcome)) {
          const id = (records[index] as { id?: unknown } | null)?.id
          report.rejected.push({ index, id: typeof id === 'string' ? id : null, errors: outcome })
        } else report[outcome]++
      }

      const prepared = records.map(prepare)
      const idCount = new Map<string, number>()
      for (const p of prepared) if (!Array.isArray(p)) idCount.set(p.mapped.id, (idCount.get(p.mapped.id) ?? 0) + 1)
      const matches = await matchesOf([...idCount.keys()])
      const fresh: Array<{ index: number; input: ProviderInput }> = []
      const matched: number[] = []
      const oneByOne: number[] = []
      prepared.forEach((p, index) => {
        if (Array.isArray(p)) return record(index, p)
        if (idCount.get(p.mapped.id)! > 1) return oneByOne.push(index)
        if (matches.has(p.mapped.id)) return matched.push(index)
        const input = inputFor(p, q)
        if (Array.isArray(input)) return record(index, input)
        fresh.push({ index, input: { ...input, organisation_id: owner } as ProviderInput })
      })
      if (fresh.length) {
        try {
          await providers.createMany(fresh.map((f) => f.input), actor)
          report.created += fresh.length
        } catch (e) {
          if (!(e instanceof Problem) || e.status >= 500) throw e
          oneByOne.push(...fresh.map((f) => f.index))
        }
      }
      // Matched records: their providers read in two statements, each compared, and only the changed ones written.
      const ids = matched.map((i) => matches.get((prepared[i] as { mapped: Mapped }).mapped.id)!.id)
      const owners = new Map((await repo.ownersOf(ids)).map((o) => [o.id, o]))
      const currents = new Map(
        ids.length ? (await repo.list([sql`p.id = ANY (${sql.param(ids)}::uuid[])`], ids.length, SEES_ALL)).map((c) => [c.id, c]) : [],
      )
      for (const index of matched) {
        const p = prepared[index] as { parsed: HsdsService; mapped: Mapped }
        const match = matches.get(p.mapped.id)!
        record(index, await upsertOver(p, q, actor, match, owners.get(match.id)!, currents.get(match.id)!))
      }
      for (const index of oneByOne.sort((a, b) => a - b)) record(index, await importOne(records[index], q, actor, owner))
      report.rejected.sort((a, b) => a.index - b.index)
      return report
    },
  }
}
export type HsdsImporter = ReturnType<typeof hsdsImporter>
