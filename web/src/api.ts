// The page's calls to setu's own API (same origin). Answers the service worker took from its cache carry the time
// they were first fetched (X-Setu-Cached-At, sw.js), which the page shows beside results seen offline.
export interface LatLon {
  lat: number
  lon: number
}

export interface AreaSummary {
  pcode: string
  name_en: string
  name_local: string | null
  country: 'BGD' | 'KHM'
  admin_level: number
  level_name: string
  parent_pcode: string | null
  rep_point: LatLon
}
export interface Area extends AreaSummary {
  parents: Array<{ pcode: string; name_en: string; admin_level: number; level_name: string }>
}

export type Requirement = 'formal_identification' | 'court_order' | 'referral_letter'
export type MouStatus = 'signed' | 'negotiating' | 'expired' | 'none'

export interface Provider {
  id: string
  name: string
  names: Record<string, string>
  kind: string
  categories: string[]
  location: LatLon | null
  location_visibility: 'exact' | 'approximate' | 'hidden'
  location_masked: boolean
  address: string | null
  phones: string[]
  languages: string[]
  eligibility: { genders: string[]; min_age: number | null; max_age: number | null; requires: Requirement[] }
  cost: 'free' | 'subsidised' | 'paid' | null
  opening_hours: string | null
  status: string
  verification: { on: string; method: string; by: string | null } | null
  mou_status: Record<string, MouStatus>
  areas: Array<{ pcode: string; name_en: string; admin_level: number }>
}
export interface NearestProvider extends Provider {
  distance_m: number
}

export interface LinkEnd {
  id: string
  name: string
  kind: string
  location: LatLon | null
  location_masked: boolean
}
export interface Pathway {
  hops: number
  distance_m: number
  provider_ids: string[]
  providers: LinkEnd[]
  links: Array<{ id: string; health: 'ok' | 'at_risk' | 'broken'; from_provider: LinkEnd; to_provider: LinkEnd }>
}
export interface PathwaysResult {
  start: LinkEnd
  items: Pathway[]
}

export interface Answer<T> {
  data: T
  /** Set when the answer came from the service worker's cache (the network failed): when it was fetched. */
  cachedAt?: Date
}

export class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`)
  }
}

/** Thrown when neither the network nor the cache could answer. */
export class OfflineError extends Error {}

export async function getJson<T>(url: string, { key, signal }: { key?: string; signal?: AbortSignal } = {}): Promise<Answer<T>> {
  let res: Response
  try {
    res = await fetch(url, { headers: { accept: 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, signal })
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err
    throw new OfflineError(String(err))
  }
  if (res.status === 504 && res.headers.get('x-setu-offline')) throw new OfflineError('offline, not cached')
  if (!res.ok) throw new HttpError(res.status)
  const cached = res.headers.get('x-setu-cached-at')
  return { data: (await res.json()) as T, cachedAt: cached ? new Date(cached) : undefined }
}

export interface NearestFilters {
  category?: string
  gender?: string
  age?: number
  free?: boolean
  noCourtOrder?: boolean
  noId?: boolean
}

/** The area's own active focal points (Union Parishad and CTC members, teachers): the people who help refer. */
export const focalPointsUrl = (pcode: string, limit: number) =>
  `/v1/providers?${new URLSearchParams({ kind: 'focal_point', area: pcode, status: 'active', limit: String(limit) })}`

/** The nearest services query, its parameters in a fixed order: the same search is the same URL, so the cache finds it. */
export function nearestUrl(point: LatLon, f: NearestFilters, limit = 10): string {
  const q = new URLSearchParams({ lat: point.lat.toFixed(5), lon: point.lon.toFixed(5), limit: String(limit) })
  if (f.category) q.set('category', f.category)
  if (f.gender) q.set('gender', f.gender)
  if (f.age !== undefined) q.set('age', String(f.age))
  if (f.free) q.set('cost', 'free')
  const notRequiring = [f.noId && 'formal_identification', f.noCourtOrder && 'court_order'].filter(Boolean) as string[]
  if (notRequiring.length) q.set('not_requiring', notRequiring.sort().join(','))
  // Services only: the community focal points (UP or CTC members, teachers) refer to them, and are shown as such
  // (the pathway, the directory's own section), never as the nearest counsellor or lawyer.
  q.set('not_kind', 'focal_point')
  return `/v1/providers/nearest?${q}`
}
