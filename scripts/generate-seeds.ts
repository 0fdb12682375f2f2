// Regenerates the committed demo data set from seeds/source/admin-units.json:
//   seeds/areas/{BGD_1,BGD_2,KHM_1,KHM_2}.geojson  polygons built by PostGIS (Voronoi cells clipped to a coarse outline)
//   seeds/providers.json                            fictitious providers from a seeded PRNG
//   seeds/mous.json, seeds/referral-links.json      fictitious MOUs and referral links between those providers
//   seeds/areas/{BGD_3,BGD_4,KHM_3}.geojson         upazilas and unions of two districts, communes of two districts,
//                                                   Voronoi cells inside the generated district polygon
//   local services and focal points in those units, and the focal points' referral links, appended to
//   providers.json and referral-links.json from a PRNG stream of their own
// Output is deterministic: running it twice gives byte-identical files. Needs PostGIS only, no tables.
// Usage: npx tsx scripts/generate-seeds.ts
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { sql, type SQL } from 'drizzle-orm'
import { createDb, type Db } from '../src/db/client.js'
import { PROJECT_ROOT } from '../src/db/database.js'
import { assertPostgisAvailable } from '../src/db/migrate.js'
import { DEMO_SCHEME, DEMO_NOTE_PREFIX, DEMO_NAME_SUFFIX, SEED_ANCHOR_DATE } from '../src/demo/seed.js'
import { configOrExit, databaseOrExit } from './cli.js'

const SEEDS = path.join(PROJECT_ROOT, 'seeds')
const DECIMALS = 5
// The day the demo set is anchored to: funding end dates are spread around it, and the loader moves every
// date by the days between it and the database's today.
const REFERENCE_DAY = SEED_ANCHOR_DATE

type Country = 'BGD' | 'KHM'
type LatLon = [number, number]
interface Unit { pcode: string; name_en: string; name_local: string; at?: LatLon; extra?: LatLon[] }
interface Source {
  outlines: Record<Country, [number, number][]>
  BGD: { divisions: Unit[]; districts: (Unit & { at: LatLon })[]; upazilas: (Unit & { at: LatLon })[]; unions: (Unit & { at: LatLon })[] }
  KHM: { provinces: (Unit & { at: LatLon })[]; districts: (Unit & { at: LatLon })[]; communes: (Unit & { at: LatLon })[] }
}
interface AreaFeature {
  type: 'Feature'
  properties: { pcode: string; name_en: string; name_local: string; parent_pcode: string | null; demo: true }
  geometry: { type: 'MultiPolygon'; coordinates: number[][][][] }
}

const source = JSON.parse(readFileSync(path.join(SEEDS, 'source', 'admin-units.json'), 'utf8')) as Source

// ---------------------------------------------------------------------------------------------
// Areas

interface Seed { code: string; lat: number; lon: number }

/**
 * One polygon per seed point: its Voronoi cell clipped to `outline`, snapped to the output grid.
 * Snapping both neighbours' shared edges to the same grid keeps the cells edge-to-edge, so unions
 * of cells (divisions, provinces) come out without slivers.
 */
async function voronoiCells(db: Db, seeds: Seed[], outline: [number, number][]): Promise<Map<string, string>> {
  const ring = JSON.stringify({ type: 'Polygon', coordinates: [outline] })
  return clippedCells(db, seeds, sql`ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(${ring}), 4326))`)
}

/** Voronoi cells of `seeds` clipped to `clip` (a geometry SQL expression), snapped, as GeoJSON by seed code. */
async function clippedCells(db: Db, seeds: Seed[], clip: SQL): Promise<Map<string, string>> {
  const grid = 10 ** -DECIMALS
  const { rows } = await db.execute<{ code: string; geojson: string }>(sql`
    WITH outline AS (SELECT ${clip} AS g),
    seeds AS (
      SELECT code, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS pt
      FROM unnest(${sql.param(seeds.map((s) => s.code))}::text[], ${sql.param(seeds.map((s) => s.lat))}::float8[],
                  ${sql.param(seeds.map((s) => s.lon))}::float8[]) AS s(code, lat, lon)),
    cells AS (
      SELECT (ST_Dump(ST_VoronoiPolygons(ST_Collect(s.pt), 0, ST_Expand(o.g, 1)))).geom AS cell
      FROM seeds s CROSS JOIN outline o GROUP BY o.g)
    SELECT s.code,
           ST_AsGeoJSON(ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SnapToGrid(ST_Intersection(c.cell, o.g), ${grid})), 3)), ${DECIMALS}) AS geojson
    FROM seeds s JOIN cells c ON ST_Contains(c.cell, s.pt) CROSS JOIN outline o
    ORDER BY s.code`)
  if (rows.length !== seeds.length) throw new Error(`expected ${seeds.length} Voronoi cells, got ${rows.length}`)
  const empty = rows.filter((r) => (JSON.parse(r.geojson) as { coordinates: unknown[] }).coordinates.length === 0)
  if (empty.length) throw new Error(`empty cells: ${empty.map((r) => r.code).join(', ')}`)
  return new Map(rows.map((r) => [r.code, r.geojson]))
}

/** The union of several generated polygons, as a valid MultiPolygon on the same grid. */
async function union(db: Db, parts: string[]): Promise<string> {
  const grid = 10 ** -DECIMALS
  const { rows } = await db.execute<{ geojson: string }>(sql`
    SELECT ST_AsGeoJSON(ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SnapToGrid(ST_Union(ST_GeomFromGeoJSON(g)), ${grid})), 3)), ${DECIMALS}) AS geojson
    FROM unnest(${sql.param(parts)}::text[]) AS g`)
  return rows[0].geojson
}

/** Fails loudly when a hand-authored point lies outside the outline: its cell would be empty. */
async function assertInside(db: Db, seeds: Seed[], outline: [number, number][], what: string) {
  const ring = JSON.stringify({ type: 'Polygon', coordinates: [outline] })
  const { rows } = await db.execute<{ code: string }>(sql`
    SELECT code FROM unnest(${sql.param(seeds.map((s) => s.code))}::text[], ${sql.param(seeds.map((s) => s.lat))}::float8[],
                            ${sql.param(seeds.map((s) => s.lon))}::float8[]) AS s(code, lat, lon)
    WHERE NOT ST_Contains(ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(${ring}), 4326)), ST_SetSRID(ST_MakePoint(lon, lat), 4326))`)
  if (rows.length) throw new Error(`${what} outside the outline: ${rows.map((r) => r.code).join(', ')}`)
}

const feature = (u: Unit, parent: string | null, geojson: string): AreaFeature => ({
  type: 'Feature',
  properties: { pcode: u.pcode, name_en: u.name_en, name_local: u.name_local, parent_pcode: parent, demo: true },
  geometry: JSON.parse(geojson),
})

const collection = (name: string, features: AreaFeature[]) => ({
  type: 'FeatureCollection',
  name,
  demo: true,
  description: 'setu demo boundaries: Voronoi approximations generated by scripts/generate-seeds.ts, not official boundaries',
  features,
})

const seedOf = (u: Unit & { at: LatLon }): Seed => ({ code: u.pcode, lat: u.at[0], lon: u.at[1] })

async function bangladeshAreas(db: Db) {
  const { divisions, districts } = source.BGD
  const seeds = districts.map(seedOf)
  await assertInside(db, seeds, source.outlines.BGD, 'BGD districts')
  const cells = await voronoiCells(db, seeds, source.outlines.BGD)
  const level2 = districts.map((d) => feature(d, d.pcode.slice(0, 4), cells.get(d.pcode)!))
  const level1: AreaFeature[] = []
  for (const div of divisions) {
    const parts = districts.filter((d) => d.pcode.startsWith(div.pcode)).map((d) => cells.get(d.pcode)!)
    if (!parts.length) throw new Error(`division ${div.pcode} has no districts`)
    level1.push(feature(div, null, await union(db, parts)))
  }
  return { level1, level2 }
}

/**
 * Cambodia has district points for a few provinces only. One Voronoi diagram over district points
 * (where known) and province points (elsewhere) keeps every district inside its own province: a
 * province with districts is the union of their cells, so Kandal wraps around Phnom Penh as it
 * should, which separate province and district diagrams cannot do.
 */
async function cambodiaAreas(db: Db) {
  const { provinces, districts } = source.KHM
  const withDistricts = new Set(districts.map((d) => d.pcode.slice(0, 4)))
  const bare = provinces.filter((p) => !withDistricts.has(p.pcode))
  // Extra points shape provinces that one point cannot: without them Siem Reap's districts would
  // swallow Oddar Meanchey and Kep most of the Kampot coast.
  const extras = bare.flatMap((p) => (p.extra ?? []).map(([lat, lon], i) => ({ code: `${p.pcode}#${i + 1}`, lat, lon })))
  const seeds = [...districts.map(seedOf), ...bare.map(seedOf), ...extras]
  await assertInside(db, seeds, source.outlines.KHM, 'KHM points')
  const cells = await voronoiCells(db, seeds, source.outlines.KHM)
  const level2 = districts.map((d) => feature(d, d.pcode.slice(0, 4), cells.get(d.pcode)!))
  const level1: AreaFeature[] = []
  for (const p of provinces) {
    const parts = withDistricts.has(p.pcode)
      ? districts.filter((d) => d.pcode.startsWith(p.pcode)).map((d) => cells.get(d.pcode)!)
      : [cells.get(p.pcode)!, ...extras.filter((e) => e.code.startsWith(`${p.pcode}#`)).map((e) => cells.get(e.code)!)]
    level1.push(feature(p, null, parts.length === 1 ? parts[0] : await union(db, parts)))
  }
  return { level1, level2 }
}

// ---------------------------------------------------------------------------------------------
// Sub-district areas: upazilas and unions of a few Bangladeshi districts, communes of a few Cambodian ones

/** Inset of the target box when hand-written points are mapped into a generated parent (share of its span per side). */
const MAP_INSET = 0.12
/** Mapped points must lie at least this far (degrees, about 400 m) inside the parent polygon. */
const INSIDE_MARGIN = 0.004

type Box = { minLon: number; maxLon: number; minLat: number; maxLat: number }
const boxOf = (points: [number, number][]): Box => ({
  minLon: Math.min(...points.map((p) => p[0])), maxLon: Math.max(...points.map((p) => p[0])),
  minLat: Math.min(...points.map((p) => p[1])), maxLat: Math.max(...points.map((p) => p[1])),
})
const round5 = (x: number) => Number(x.toFixed(DECIMALS))

/**
 * Moves hand-written points (real-world approximations) into a generated parent polygon. The parent is
 * itself a rough Voronoi cell that can miss the real district by 10 km or more on a side, so many real
 * union centroids fall outside it. Deterministically:
 * 1. the bounding box of the points is mapped linearly onto the parent's bounding box, inset by MAP_INSET
 *    on each side (unit centroids lie inside their district, not on its edge); an axis along which all
 *    points agree maps to the middle of the box;
 * 2. a point still outside the parent shrunk by INSIDE_MARGIN moves to the closest point of that shrunk
 *    parent (PostGIS ST_ClosestPoint), rounded to 5 decimals;
 * 3. two points closer than 0.002° after this stop the script: the Voronoi cells would be slivers.
 * The relative layout of the hand-written points survives, which is what the cells are made from.
 */
async function placeInside(db: Db, seeds: Seed[], parentGeojson: string): Promise<Seed[]> {
  const parent = boxOf((JSON.parse(parentGeojson) as { coordinates: number[][][][] }).coordinates.flat(2) as [number, number][])
  const own = boxOf(seeds.map((s) => [s.lon, s.lat]))
  const axis = (v: number, lo: number, hi: number, tlo: number, thi: number) => {
    const inset = (thi - tlo) * MAP_INSET
    return hi - lo < 1e-9 ? (tlo + thi) / 2 : tlo + inset + ((v - lo) / (hi - lo)) * (thi - tlo - 2 * inset)
  }
  const mapped = seeds.map((s) => ({
    code: s.code,
    lat: round5(axis(s.lat, own.minLat, own.maxLat, parent.minLat, parent.maxLat)),
    lon: round5(axis(s.lon, own.minLon, own.maxLon, parent.minLon, parent.maxLon)),
  }))
  const { rows } = await db.execute<{ code: string; lat: number; lon: number }>(sql`
    WITH inner_parent AS (SELECT ST_Buffer(ST_SetSRID(ST_GeomFromGeoJSON(${parentGeojson}), 4326), ${-INSIDE_MARGIN}) AS g),
    pts AS (
      SELECT code, ord, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS pt
      FROM unnest(${sql.param(mapped.map((s) => s.code))}::text[], ${sql.param(mapped.map((s) => s.lat))}::float8[],
                  ${sql.param(mapped.map((s) => s.lon))}::float8[]) WITH ORDINALITY AS s(code, lat, lon, ord))
    SELECT code, ST_Y(q) AS lat, ST_X(q) AS lon
    FROM (SELECT code, ord, CASE WHEN ST_Contains(i.g, pt) THEN pt ELSE ST_ClosestPoint(i.g, pt) END AS q
          FROM pts CROSS JOIN inner_parent i) x
    ORDER BY ord`)
  const placed = rows.map((r) => ({ code: r.code, lat: round5(Number(r.lat)), lon: round5(Number(r.lon)) }))
  for (let i = 0; i < placed.length; i++) {
    for (let j = i + 1; j < placed.length; j++) {
      if (Math.hypot(placed[i].lat - placed[j].lat, placed[i].lon - placed[j].lon) < 0.002) {
        throw new Error(`${placed[i].code} and ${placed[j].code} land on the same spot inside their parent`)
      }
    }
  }
  return placed
}

/** One polygon per seed: its Voronoi cell clipped to a generated parent polygon, snapped to the output grid. */
const cellsWithin = (db: Db, seeds: Seed[], parentGeojson: string) =>
  clippedCells(db, seeds, sql`ST_SetSRID(ST_GeomFromGeoJSON(${parentGeojson}), 4326)`)

/** A sub-district unit with the point its cell was grown from (inside the cell): where its focal point goes. */
interface SubUnit { feature: AreaFeature; at: LatLon }

/**
 * Units below the district: one Voronoi diagram per district over its lowest units (unions and
 * paurashavas in Bangladesh, communes in Cambodia), clipped to the generated district; an upazila is the
 * union of its unions' cells. Children therefore tile their parent exactly (up to the 5-decimal grid)
 * and never leave it, which is what the API's spatial parent and provider-area lookups need.
 */
async function subDistrictAreas(
  db: Db, districts: AreaFeature[], units: (Unit & { at: LatLon })[], parentLength: number,
): Promise<SubUnit[]> {
  const out: SubUnit[] = []
  for (const district of districts) {
    const mine = units.filter((u) => u.pcode.startsWith(district.properties.pcode))
    if (!mine.length) continue
    const parentGeojson = JSON.stringify(district.geometry)
    const placed = await placeInside(db, mine.map(seedOf), parentGeojson)
    const cells = await cellsWithin(db, placed, parentGeojson)
    mine.forEach((u, i) => out.push({
      feature: feature(u, u.pcode.slice(0, parentLength), cells.get(u.pcode)!),
      at: [placed[i].lat, placed[i].lon],
    }))
  }
  return out
}

async function bangladeshSubDistricts(db: Db, districts: AreaFeature[]) {
  const { upazilas, unions } = source.BGD
  for (const u of unions) {
    if (!upazilas.some((z) => z.pcode === u.pcode.slice(0, 8))) throw new Error(`union ${u.pcode} has no upazila`)
  }
  const level4 = await subDistrictAreas(db, districts, unions, 8)
  const level3: AreaFeature[] = []
  for (const z of upazilas) {
    const parts = level4.filter((u) => u.feature.properties.parent_pcode === z.pcode).map((u) => JSON.stringify(u.feature.geometry))
    if (!parts.length) throw new Error(`upazila ${z.pcode} has no unions`)
    level3.push(feature(z, z.pcode.slice(0, 6), await union(db, parts)))
  }
  return { level3, level4 }
}

const cambodiaCommunes = (db: Db, districts: AreaFeature[]) => subDistrictAreas(db, districts, source.KHM.communes, 6)

// ---------------------------------------------------------------------------------------------
// Providers

/** mulberry32: tiny, fast, and the same sequence on every machine. */
function prng(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
// The PRNG every draw below reads. The focal points of the sub-district units are drawn afterwards from a
// stream of their own (focalPointStream), so adding them left every earlier provider, MOU and link as it was.
let rand = prng(20261123)
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]
const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1))
const chance = (p: number) => rand() < p
function shuffled<T>(xs: readonly T[]): T[] {
  const out = [...xs]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

type Category = 'health' | 'legal' | 'counselling' | 'shelter' | 'livelihood'
type Kind = 'government' | 'ngo' | 'community_group' | 'survivor_group' | 'private' | 'international' | 'focal_point'
type Gender = 'female' | 'male' | 'third_gender'
type Requirement = 'formal_identification' | 'court_order' | 'referral_letter'

interface Place { country: Country; pcode: string; name_en: string; name_local: string; parentName: string; at: LatLon; geometry: number[][][][] }

interface Template {
  kind: Kind
  categories: Category[]
  /** Name parts chosen once per provider, so the English and local names agree. */
  stems?: readonly (readonly [string, string])[]
  en: (p: Place, stem: readonly [string, string]) => string
  local: (p: Place, stem: readonly [string, string]) => string
  genders?: Gender[]
  minAge?: number | null
  maxAge?: number | null
  requires?: Requirement[]
  cost: 'free' | 'subsidised' | 'paid'
  hours?: string
}

// Fictitious organisation stems. Checked against the names of well-known NGOs in both countries
// so that no demo entry can be mistaken for a real organisation.
const BGD_NGO_STEMS = [
  ['Nodi', 'নদী'], ['Alo', 'আলো'], ['Shapla', 'শাপলা'], ['Megh', 'মেঘ'], ['Setu Bondhu', 'সেতু বন্ধু'],
  ['Sonali Path', 'সোনালী পথ'], ['Nirapod Ghor', 'নিরাপদ ঘর'], ['Prottoy', 'প্রত্যয়'], ['Sabuj Chhaya', 'সবুজ ছায়া'],
  ['Dishari', 'দিশারী'], ['Jonaki', 'জোনাকি'], ['Notun Din', 'নতুন দিন'],
] as const
const KHM_NGO_STEMS = [
  ['Mekong Light', 'ពន្លឺមេគង្គ'], ['Lotus Path', 'ផ្លូវផ្កាឈូក'], ['Safe Harbour', 'កំពង់សុវត្ថិភាព'],
  ['New Dawn', 'អរុណថ្មី'], ['Rice Field', 'វាលស្រែ'], ['Bridge of Hope', 'ស្ពាននៃក្តីសង្ឃឹម'],
  ['Sunrise', 'ថ្ងៃរះ'], ['Kinship', 'ញាតិមិត្ត'],
] as const
const INTL_STEMS = [
  ['Horizon Aid International', ''], ['Open Road Relief', ''], ['Wayfarer Protection Trust', ''], ['Harbourlight Global', ''],
  ['Compass Rights Alliance', ''],
] as const


const BGD_TEMPLATES: Template[] = [
  { kind: 'government', categories: ['health'], en: (p) => `${p.name_en} District Hospital`, local: (p) => `${p.name_local} জেলা হাসপাতাল`, cost: 'free', hours: '24/7' },
  { kind: 'government', categories: ['health', 'counselling', 'legal'], en: (p) => `One-Stop Crisis Cell, ${p.name_en} Medical College Hospital`, local: (p) => `ওয়ান-স্টপ ক্রাইসিস সেল, ${p.name_local} মেডিকেল কলেজ হাসপাতাল`, genders: ['female'], cost: 'free', hours: '24/7' },
  { kind: 'government', categories: ['legal'], en: (p) => `District Legal Aid Office, ${p.name_en}`, local: (p) => `জেলা লিগ্যাল এইড অফিস, ${p.name_local}`, cost: 'free', hours: 'Su-Th 09:00-17:00' },
  { kind: 'government', categories: ['shelter', 'counselling'], en: (p) => `Government Safe Home, ${p.name_en}`, local: (p) => `সরকারি নিরাপদ আবাসন, ${p.name_local}`, genders: ['female'], requires: ['court_order'], cost: 'free', hours: '24/7' },
  { kind: 'government', categories: ['livelihood'], en: (p) => `Youth Development Training Centre, ${p.name_en}`, local: (p) => `যুব উন্নয়ন প্রশিক্ষণ কেন্দ্র, ${p.name_local}`, minAge: 18, maxAge: 35, requires: ['formal_identification'], cost: 'free', hours: 'Su-Th 09:00-17:00' },
  { kind: 'government', categories: ['counselling', 'livelihood'], en: (p) => `Social Services Office, ${p.name_en}`, local: (p) => `সমাজসেবা কার্যালয়, ${p.name_local}`, cost: 'free', hours: 'Su-Th 09:00-17:00' },
  { kind: 'ngo', categories: ['shelter', 'counselling', 'health'], stems: BGD_NGO_STEMS, en: (p, s) => `${s[0]} Women's Shelter, ${p.name_en}`, local: (p, s) => `${s[1]} নারী আশ্রয়কেন্দ্র, ${p.name_local}`, genders: ['female'], minAge: 18, requires: ['referral_letter'], cost: 'free', hours: '24/7' },
  { kind: 'ngo', categories: ['shelter', 'counselling'], stems: BGD_NGO_STEMS, en: (p, s) => `${s[0]} Children's Transit Home, ${p.name_en}`, local: (p, s) => `${s[1]} শিশু ট্রানজিট হোম, ${p.name_local}`, minAge: 6, maxAge: 17, requires: ['referral_letter'], cost: 'free', hours: '24/7' },
  { kind: 'ngo', categories: ['legal', 'counselling'], stems: BGD_NGO_STEMS, en: (p, s) => `${s[0]} Legal Aid Society, ${p.name_en}`, local: (p, s) => `${s[1]} আইন সহায়তা সংস্থা, ${p.name_local}`, cost: 'free', hours: 'Sa-Th 09:30-17:30' },
  { kind: 'ngo', categories: ['livelihood'], stems: BGD_NGO_STEMS, en: (p, s) => `${s[0]} Skills and Savings Programme, ${p.name_en}`, local: (p, s) => `${s[1]} দক্ষতা ও সঞ্চয় কর্মসূচি, ${p.name_local}`, minAge: 16, cost: 'free', hours: 'Sa-Th 09:00-17:00' },
  { kind: 'ngo', categories: ['counselling', 'health'], stems: BGD_NGO_STEMS, en: (p, s) => `${s[0]} Psychosocial Support Centre, ${p.name_en}`, local: (p, s) => `${s[1]} মনোসামাজিক সহায়তা কেন্দ্র, ${p.name_local}`, cost: 'free', hours: 'Sa-Th 09:00-17:00' },
  { kind: 'community_group', categories: ['livelihood', 'counselling'], en: (p) => `Women's Self-Help Group, ${p.name_en}`, local: (p) => `নারী স্বনির্ভর দল, ${p.name_local}`, genders: ['female'], cost: 'free', hours: 'Sa 10:00-12:00' },
  { kind: 'community_group', categories: ['legal'], en: (p) => `Counter-Trafficking Committee Secretariat, ${p.name_en}`, local: (p) => `মানব পাচার প্রতিরোধ কমিটি সচিবালয়, ${p.name_local}`, cost: 'free', hours: 'Su-Th 10:00-16:00' },
  { kind: 'survivor_group', categories: ['counselling', 'livelihood'], en: (p) => `Survivor Peer Network, ${p.name_en}`, local: (p) => `সারভাইভার সহায়ক নেটওয়ার্ক, ${p.name_local}`, minAge: 18, cost: 'free', hours: 'Fr 15:00-18:00' },
  { kind: 'private', categories: ['health'], stems: [['Shanti', 'শান্তি'], ['Arogya', 'আরোগ্য'], ['Janata', 'জনতা'], ['Sebika', 'সেবিকা']], en: (p, s) => `${s[0]} Private Clinic, ${p.name_en}`, local: (p, s) => `${s[1]} প্রাইভেট ক্লিনিক, ${p.name_local}`, cost: 'paid', hours: 'Sa-Th 08:00-22:00' },
  { kind: 'private', categories: ['livelihood'], stems: [['Sutor', 'সুতোর'], ['Tant', 'তাঁত'], ['Karigor', 'কারিগর']], en: (p, s) => `${s[0]} Tailoring and Garment Training, ${p.name_en}`, local: (p, s) => `${s[1]} দর্জি ও পোশাক প্রশিক্ষণ, ${p.name_local}`, minAge: 18, cost: 'subsidised', hours: 'Sa-Th 10:00-18:00' },
  { kind: 'private', categories: ['legal'], en: (p) => `District Bar Pro Bono Desk, ${p.name_en}`, local: (p) => `জেলা আইনজীবী সমিতি প্রো বোনো ডেস্ক, ${p.name_local}`, cost: 'subsidised', hours: 'Su-Th 10:00-16:00' },
  { kind: 'international', categories: ['shelter', 'health', 'livelihood'], stems: INTL_STEMS, en: (p, s) => `${s[0]}, ${p.name_en} field office`, local: (p) => `আন্তর্জাতিক সহায়তা সংস্থা, ${p.name_local} মাঠ কার্যালয়`, cost: 'free', hours: 'Su-Th 09:00-17:00' },
  { kind: 'focal_point', categories: ['legal', 'counselling'], en: (p) => `Union Parishad member focal point, ${p.name_en}`, local: (p) => `ইউনিয়ন পরিষদ সদস্য ফোকাল পয়েন্ট, ${p.name_local}`, cost: 'free', hours: 'Su-Th 10:00-16:00' },
  { kind: 'focal_point', categories: ['counselling'], en: (p) => `CTC member focal point, ${p.name_en}`, local: (p) => `পাচার প্রতিরোধ কমিটি সদস্য ফোকাল পয়েন্ট, ${p.name_local}`, cost: 'free' },
  { kind: 'focal_point', categories: ['counselling'], en: (p) => `School teacher focal point, ${p.name_en}`, local: (p) => `বিদ্যালয় শিক্ষক ফোকাল পয়েন্ট, ${p.name_local}`, maxAge: 18, cost: 'free', hours: 'Su-Th 09:00-15:00' },
  { kind: 'focal_point', categories: ['livelihood'], en: (p) => `Market shopkeeper focal point, ${p.name_en}`, local: (p) => `বাজার দোকানদার ফোকাল পয়েন্ট, ${p.name_local}`, cost: 'free', hours: 'Sa-Th 08:00-20:00' },
]

const KHM_TEMPLATES: Template[] = [
  { kind: 'government', categories: ['health'], en: (p) => `${p.parentName} Provincial Referral Hospital, ${p.name_en}`, local: (p) => `មន្ទីរពេទ្យបង្អែក ${p.name_local}`, cost: 'subsidised', hours: '24/7' },
  { kind: 'government', categories: ['health'], en: (p) => `${p.name_en} Health Centre`, local: (p) => `មណ្ឌលសុខភាព ${p.name_local}`, cost: 'subsidised', hours: 'Mo-Fr 07:00-17:00; Sa 07:00-11:00' },
  { kind: 'government', categories: ['shelter', 'counselling', 'livelihood'], en: (p) => `Department of Social Affairs reintegration office, ${p.name_en}`, local: (p) => `ការិយាល័យសង្គមកិច្ច ${p.name_local}`, requires: ['referral_letter'], cost: 'free', hours: 'Mo-Fr 07:30-17:00' },
  { kind: 'government', categories: ['legal'], en: (p) => `Anti-Human Trafficking and Juvenile Protection police desk, ${p.name_en}`, local: (p) => `ការិយាល័យប្រឆាំងការជួញដូរមនុស្ស ${p.name_local}`, cost: 'free', hours: '24/7' },
  { kind: 'government', categories: ['livelihood'], en: (p) => `Provincial Vocational Training Centre, ${p.name_en}`, local: (p) => `មជ្ឈមណ្ឌលបណ្តុះបណ្តាលវិជ្ជាជីវៈ ${p.name_local}`, minAge: 15, cost: 'free', hours: 'Mo-Fr 07:30-16:30' },
  { kind: 'ngo', categories: ['shelter', 'counselling', 'health'], stems: KHM_NGO_STEMS, en: (p, s) => `${s[0]} Safe House, ${p.name_en}`, local: (p, s) => `ផ្ទះសុវត្ថិភាព${s[1]} ${p.name_local}`, genders: ['female'], requires: ['referral_letter'], cost: 'free', hours: '24/7' },
  { kind: 'ngo', categories: ['shelter', 'counselling'], stems: KHM_NGO_STEMS, en: (p, s) => `${s[0]} Boys' Shelter, ${p.name_en}`, local: (p, s) => `ជម្រកកុមារា${s[1]} ${p.name_local}`, genders: ['male'], minAge: 8, maxAge: 17, requires: ['referral_letter'], cost: 'free', hours: '24/7' },
  { kind: 'ngo', categories: ['legal'], stems: KHM_NGO_STEMS, en: (p, s) => `${s[0]} Legal Aid, ${p.name_en}`, local: (p, s) => `ជំនួយផ្លូវច្បាប់${s[1]} ${p.name_local}`, cost: 'free', hours: 'Mo-Fr 08:00-17:00' },
  { kind: 'ngo', categories: ['counselling'], stems: KHM_NGO_STEMS, en: (p, s) => `${s[0]} Counselling Centre, ${p.name_en}`, local: (p, s) => `មជ្ឈមណ្ឌលប្រឹក្សា${s[1]} ${p.name_local}`, cost: 'free', hours: 'Mo-Fr 08:00-17:00' },
  { kind: 'ngo', categories: ['livelihood', 'counselling'], stems: KHM_NGO_STEMS, en: (p, s) => `${s[0]} Reintegration and Skills Programme, ${p.name_en}`, local: (p, s) => `កម្មវិធីជំនាញ${s[1]} ${p.name_local}`, minAge: 16, cost: 'free', hours: 'Mo-Fr 08:00-17:00' },
  { kind: 'community_group', categories: ['livelihood'], en: (p) => `Village savings group, ${p.name_en}`, local: (p) => `ក្រុមសន្សំប្រាក់ភូមិ ${p.name_local}`, cost: 'free', hours: 'Su 08:00-10:00' },
  { kind: 'community_group', categories: ['counselling', 'legal'], en: (p) => `Commune Committee for Women and Children, ${p.name_en}`, local: (p) => `គណៈកម្មាធិការទទួលបន្ទុកកិច្ចការនារី និងកុមារឃុំ ${p.name_local}`, cost: 'free', hours: 'Mo-Fr 08:00-16:00' },
  { kind: 'survivor_group', categories: ['counselling', 'livelihood'], en: (p) => `Survivor peer network, ${p.name_en}`, local: (p) => `បណ្តាញអ្នករស់រានមានជីវិត ${p.name_local}`, minAge: 18, cost: 'free', hours: 'Sa 14:00-17:00' },
  { kind: 'private', categories: ['health'], stems: [['Sokha', ''], ['Metta', ''], ['Angkor Care', '']], en: (p, s) => `${s[0]} Private Clinic, ${p.name_en}`, local: (p) => `គ្លីនិកឯកជន ${p.name_local}`, cost: 'paid', hours: 'Mo-Su 07:00-20:00' },
  { kind: 'private', categories: ['livelihood'], stems: [['Silk Loom', ''], ['Golden Needle', ''], ['Tuk Tuk Mechanics', '']], en: (p, s) => `${s[0]} Training Workshop, ${p.name_en}`, local: (p) => `សិក្ខាសាលាបណ្តុះបណ្តាល ${p.name_local}`, minAge: 18, cost: 'subsidised', hours: 'Mo-Sa 08:00-17:00' },
  { kind: 'international', categories: ['shelter', 'livelihood', 'legal'], stems: INTL_STEMS, en: (p, s) => `${s[0]}, ${p.name_en} office`, local: (p) => `អង្គការអន្តរជាតិ ${p.name_local}`, cost: 'free', hours: 'Mo-Fr 08:00-17:00' },
  { kind: 'focal_point', categories: ['counselling', 'legal'], en: (p) => `Commune council focal person, ${p.name_en}`, local: (p) => `អ្នកទំនាក់ទំនងក្រុមប្រឹក្សាឃុំ ${p.name_local}`, cost: 'free', hours: 'Mo-Fr 08:00-16:00' },
  { kind: 'focal_point', categories: ['counselling'], en: (p) => `Primary school teacher focal point, ${p.name_en}`, local: (p) => `គ្រូបង្រៀនជាអ្នកទំនាក់ទំនង ${p.name_local}`, maxAge: 18, cost: 'free', hours: 'Mo-Fr 07:00-11:00' },
  { kind: 'focal_point', categories: ['livelihood'], en: (p) => `Market vendor focal point, ${p.name_en}`, local: (p) => `អ្នកលក់ដូរជាអ្នកទំនាក់ទំនង ${p.name_local}`, cost: 'free', hours: 'Mo-Su 06:00-18:00' },
]

const SERVICES: Record<Category, [string, string][]> = {
  health: [
    ['Medical examination', 'General check-up and treatment of injuries'],
    ['Sexual and reproductive health care', 'Examination, testing and treatment, with a female doctor on request'],
    ['Medico-legal certificate', 'Forensic examination and certificate for court'],
  ],
  legal: [
    ['Legal advice', 'Advice on rights, complaints and court procedure'],
    ['Court representation', 'A lawyer for criminal and civil cases'],
    ['Help with documents', 'Birth registration, identity card and passport recovery'],
  ],
  counselling: [
    ['Trauma counselling', 'Individual sessions with a trained counsellor'],
    ['Family mediation', 'Preparing families for a survivor’s return'],
    ['Case management', 'A case worker who coordinates referrals'],
  ],
  shelter: [
    ['Emergency shelter', 'Safe accommodation for up to 14 days'],
    ['Medium-term shelter', 'Accommodation with meals and schooling for up to 6 months'],
  ],
  livelihood: [
    ['Vocational training', 'Tailoring, food processing, mobile phone repair'],
    ['Small grant and savings support', 'Start-up grant after a business plan, savings group membership'],
    ['Job placement', 'Referral to employers who have signed a safe-work code'],
  ],
}

// People and groups who are not service organisations offer first-line help, not professional services.
const COMMUNITY_SERVICES: Partial<Record<Kind, Partial<Record<Category, [string, string]>>>> = {
  focal_point: {
    legal: ['Help to file a complaint', 'Accompanies a survivor to the police or the legal aid office'],
    counselling: ['Listening and referral', 'Recognises warning signs and refers to the nearest service'],
    livelihood: ['Referral to local work and training', 'Knows which employers and courses are safe'],
  },
  community_group: {
    legal: ['Community watch and complaint support', 'Follows up complaints with the local authorities'],
    counselling: ['Peer support meetings', 'Regular group meetings with a trained facilitator'],
    livelihood: ['Savings group membership', 'Weekly savings and small loans among members'],
  },
  survivor_group: {
    counselling: ['Peer support meetings', 'Survivors supporting survivors, in a closed group'],
    livelihood: ['Savings group membership', 'Weekly savings and small loans among members'],
  },
}

const VERIFIERS = ['Demo district coordinator', 'Demo helpline team', 'Demo field officer', 'Demo data steward'] as const
const METHODS = ['field_visit', 'phone_call', 'document', 'self_reported'] as const

function addDays(day: string, days: number) {
  const d = new Date(`${day}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + days)
  return d.toISOString().slice(0, 10)
}

/** Ray casting over every ring of a MultiPolygon (holes flip the answer back). */
function covers(geometry: number[][][][], lon: number, lat: number) {
  let inside = false
  for (const polygon of geometry) {
    for (const ring of polygon) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i]
        const [xj, yj] = ring[j]
        if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside
      }
    }
  }
  return inside
}

/** A point near the place's centre that lies inside its polygon (retrying jitters that fall outside). */
function locationIn(place: Place, spreadDeg: number) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const r = spreadDeg * Math.sqrt(rand())
    const theta = rand() * 2 * Math.PI
    const lat = Number((place.at[0] + r * Math.sin(theta)).toFixed(5))
    const lon = Number((place.at[1] + r * Math.cos(theta)).toFixed(5))
    if (covers(place.geometry, lon, lat)) return { lat, lon }
  }
  throw new Error(`no point found inside ${place.pcode}`)
}

const slug = (s: string) => s.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')

function providerFor(place: Place, template: Template, serial: number, usedNames: Set<string>, spreadDeg?: number) {
  const country = place.country
  const stem = template.stems ? pick(template.stems) : (['', ''] as const)
  let en = template.en(place, stem)
  let local = template.local(place, stem)
  for (let n = 2; usedNames.has(en); n++) {
    en = `${template.en(place, stem)} ${n}`
    local = `${template.local(place, stem)} ${n}`
  }
  usedNames.add(en)
  const id = `${country}-${String(serial).padStart(4, '0')}`
  const name = `${en}${DEMO_NAME_SUFFIX}`
  const spread = spreadDeg ?? (place.country === 'BGD' ? 0.08 : place.pcode.startsWith('KH12') ? 0.012 : 0.05)

  const services = template.categories.flatMap((category) => {
    const community = COMMUNITY_SERVICES[template.kind]?.[category]
    if (community) return [{ category, name: community[0], description: community[1] }]
    const options = SERVICES[category]
    const count = Math.min(options.length, chance(0.4) ? 2 : 1)
    const start = between(0, options.length - 1)
    return Array.from({ length: count }, (_, i) => {
      const [serviceName, description] = options[(start + i) % options.length]
      return { category, name: serviceName, description }
    })
  })

  const roll = rand()
  const status = roll < 0.86 ? 'active' : roll < 0.94 ? 'suspended' : 'closed'
  const fundRoll = rand()
  const funded_until =
    template.kind === 'government' || template.kind === 'focal_point'
      ? null
      : fundRoll < 0.15
        ? addDays(REFERENCE_DAY, -between(1, 400))
        : fundRoll < 0.3
          ? addDays(REFERENCE_DAY, between(1, 60))
          : addDays(REFERENCE_DAY, between(90, 1100))
  const verification = chance(0.9)
    ? { on: addDays(REFERENCE_DAY, -between(5, 700)), method: pick(METHODS), by: `${pick(VERIFIERS)} (${country})` }
    : null
  const phoneSerial = String(serial).padStart(3, '0').slice(-3)
  const phones =
    country === 'BGD'
      ? [`+880 1700-000${phoneSerial}`, ...(chance(0.3) ? [`+880 1800-000${phoneSerial}`] : [])]
      : [`+855 12 000 ${phoneSerial}`, ...(chance(0.3) ? [`+855 23 000 ${phoneSerial}`] : [])]
  const shelter = template.categories.includes('shelter')
  const languages = country === 'BGD' ? (chance(0.5) ? ['bn', 'en'] : ['bn']) : chance(0.5) ? ['km', 'en'] : ['km']
  const emailSlug = `${slug(en).slice(0, 48).replace(/-$/, '')}-${id.toLowerCase()}`
  const genders = template.genders ?? []

  return {
    name,
    names: country === 'BGD' ? { en, bn: `${local} (ডেমো)` } : { en, km: `${local} (សាកល្បង)` },
    kind: template.kind,
    categories: template.categories,
    services,
    location: locationIn(place, spread),
    address: `Demo address ${serial}, ${place.name_en}, ${place.parentName}, ${country === 'BGD' ? 'Bangladesh' : 'Cambodia'}`,
    phones,
    email: chance(0.8) ? `${emailSlug}@example.org` : null,
    website: chance(0.35) ? `https://example.org/setu-demo/${id.toLowerCase()}` : null,
    languages,
    eligibility: {
      genders,
      min_age: template.minAge ?? null,
      max_age: template.maxAge ?? null,
      requires: template.requires ?? [],
    },
    cost: template.cost,
    capacity: shelter ? between(2, 12) * 5 : null,
    opening_hours: template.hours ?? null,
    status,
    funded_until,
    verification,
    external_ids: [{ scheme: DEMO_SCHEME, id }],
    notes: `${DEMO_NOTE_PREFIX} generated by scripts/generate-seeds.ts. Not a real service: do not refer anyone here.`,
  }
}

function generateProviders(areas: { BGD: AreaFeature[]; KHM: AreaFeature[] }) {
  const parentNames = new Map(
    [...source.BGD.divisions, ...source.KHM.provinces].map((u) => [u.pcode, u.name_en] as const),
  )
  const atOf = new Map([...source.BGD.districts, ...source.KHM.districts].map((d) => [d.pcode, d.at] as const))
  const placesOf = (country: Country, features: AreaFeature[]): Place[] =>
    features.map((f) => ({
      country,
      pcode: f.properties.pcode,
      name_en: f.properties.name_en,
      name_local: f.properties.name_local,
      parentName: parentNames.get(f.properties.parent_pcode!)!,
      at: atOf.get(f.properties.pcode)!,
      geometry: f.geometry.coordinates,
    }))

  const out: ReturnType<typeof providerFor>[] = []
  const districtOf = new Map<string, string>()
  const usedNames = new Set<string>()
  // Templates are dealt round-robin from a shuffled deck so every kind and category appears in
  // every country, while the mix per district still varies.
  const deal = (templates: Template[]) => {
    let deck: Template[] = []
    return () => {
      if (!deck.length) deck = shuffled(templates)
      return deck.pop()!
    }
  }
  for (const [country, templates, perPlace] of [
    ['BGD', BGD_TEMPLATES, () => between(4, 6)],
    ['KHM', KHM_TEMPLATES, (p: Place) => (p.pcode.startsWith('KH12') ? between(4, 5) : between(2, 4))],
  ] as const) {
    const next = deal(templates)
    for (const place of placesOf(country, areas[country])) {
      const count = perPlace(place)
      for (let i = 0; i < count; i++) {
        const provider = providerFor(place, next(), out.length + 1, usedNames)
        out.push(provider)
        districtOf.set(provider.external_ids[0].id, place.pcode)
      }
    }
  }
  return { providers: out, districtOf }
}

// ---------------------------------------------------------------------------------------------
// Referral network: MOUs and referral links between the demo providers

type DemoProvider = ReturnType<typeof providerFor>
type Condition = 'ok' | 'at_risk' | 'broken'
type MouState = 'current' | 'expiring' | 'expired' | 'lapsed' | 'negotiating' | 'draft' | 'terminated'

interface DemoMou {
  provider: string
  renews?: string
  counterparty: string
  funding_project: string | null
  counterparty_level: 'national' | 'province' | 'district'
  counterparty_area: string | null
  categories: Category[]
  status: 'draft' | 'negotiating' | 'signed' | 'expired' | 'terminated'
  signed_on: string | null
  expires_on: string | null
  document_ref: string
  notes: string
}

interface DemoLink {
  from: string
  to: string
  categories: Category[]
  basis: 'mou' | 'sop' | 'informal' | 'court_order'
  status: 'active' | 'inactive'
  established_on: string
  last_used_on: string | null
  notes: string
}

const DONOR_PROJECTS: Record<Country, readonly string[]> = {
  BGD: ['Safe Passage Fund 2024–2027 (demo project)', 'Bay of Bengal Safe Migration Initiative (demo project)', 'Homeward Reintegration Grant (demo project)'],
  KHM: ['Safe Passage Fund 2024–2027 (demo project)', 'Mekong Protection Partnership (demo project)', 'Homeward Reintegration Grant (demo project)'],
}

const demoIdOf = (p: DemoProvider) => p.external_ids[0].id

/** How a link to or from this provider will read on the anchor day, by the same rules as health.ts. */
function conditionOf(p: DemoProvider): Condition {
  const staleBefore = addDays(REFERENCE_DAY, -365)
  if (p.status !== 'active') return 'broken'
  if (p.funded_until && p.funded_until < REFERENCE_DAY) return 'broken'
  if (!p.verification || p.verification.on < staleBefore) return 'broken'
  if (p.funded_until && p.funded_until <= addDays(REFERENCE_DAY, 60)) return 'at_risk'
  return 'ok'
}

function distanceKm(a: DemoProvider, b: DemoProvider) {
  const rad = Math.PI / 180
  const dLat = (b.location.lat - a.location.lat) * rad
  const dLon = (b.location.lon - a.location.lon) * rad
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.location.lat * rad) * Math.cos(b.location.lat * rad) * Math.sin(dLon / 2) ** 2
  return 2 * 6371 * Math.asin(Math.sqrt(h))
}

/** Signing and expiry dates for an MOU in the given state, absolute and spread around the anchor day. */
function mouDates(state: MouState): { signed_on: string | null; expires_on: string | null } {
  const term = pick([730, 1095])
  const fromExpiry = (expires: string) => {
    let signed = addDays(expires, -term)
    if (signed > REFERENCE_DAY) signed = addDays(REFERENCE_DAY, -between(20, 120))
    return { signed_on: signed, expires_on: expires }
  }
  switch (state) {
    case 'current': return fromExpiry(addDays(REFERENCE_DAY, between(120, 900)))
    case 'expiring': return fromExpiry(addDays(REFERENCE_DAY, between(4, 55)))
    case 'expired': return fromExpiry(addDays(REFERENCE_DAY, -between(15, 420)))
    case 'lapsed':
    case 'terminated': return fromExpiry(addDays(REFERENCE_DAY, between(60, 600)))
    default: return { signed_on: null, expires_on: null }
  }
}

const MOU_STATE_DECK: MouState[] = [
  'current', 'current', 'current', 'current', 'current', 'current', 'current',
  'expiring', 'expiring', 'expired', 'expired', 'lapsed', 'negotiating', 'negotiating', 'draft', 'terminated',
]

const MOU_NOTES: Record<MouState, string> = {
  current: 'signed and in force',
  expiring: 'signed; renewal talks have not started',
  expired: 'signed; the expiry date has passed without a renewal',
  lapsed: 'recorded as expired early: the donor project it depended on ended',
  negotiating: 'text agreed at working level, waiting for the counterparty to sign',
  draft: 'first draft shared with the counterparty',
  terminated: 'terminated by the counterparty after a change of policy',
}

/** The counterparty of an MOU covering these categories, from the provider's country and place. */
function counterpartyFor(country: Country, category: Category, province: string, provinceName: string, district: string, districtName: string) {
  if (country === 'KHM') {
    const national = chance(0.35)
    const bodies: Record<Category, [string, string]> = {
      shelter: ['Ministry of Social Affairs, Veterans and Youth Rehabilitation', 'Provincial Department of Social Affairs, Veterans and Youth Rehabilitation'],
      counselling: ['Ministry of Social Affairs, Veterans and Youth Rehabilitation', 'Provincial Department of Social Affairs, Veterans and Youth Rehabilitation'],
      health: ['Ministry of Health', 'Provincial Health Department'],
      legal: ['National Committee for Counter Trafficking', 'Provincial Committee for Counter Trafficking'],
      livelihood: ['Ministry of Labour and Vocational Training', 'Provincial Department of Labour and Vocational Training'],
    }
    const [ministry, department] = bodies[category]
    return national
      ? { counterparty: ministry, counterparty_level: 'national' as const, counterparty_area: null }
      : { counterparty: `${department}, ${provinceName}`, counterparty_level: 'province' as const, counterparty_area: province }
  }
  const bodies: Record<Category, string> = {
    shelter: 'Department of Women Affairs',
    counselling: 'Department of Social Services',
    health: "Civil Surgeon's Office",
    legal: 'District Legal Aid Committee',
    livelihood: 'Department of Youth Development',
  }
  return { counterparty: `${bodies[category]}, ${districtName}`, counterparty_level: 'district' as const, counterparty_area: district }
}

/** A random order weighted towards higher weights (Efraimidis–Spirakis keys). */
const weightedOrder = <T>(xs: T[], weight: (x: T) => number) =>
  xs.map((x) => ({ x, key: rand() ** (1 / weight(x)) })).sort((a, b) => b.key - a.key).map((e) => e.x)

/**
 * MOUs first (NGOs and international organisations with a ministry or department: in Cambodia mostly for
 * shelter and health, in Bangladesh a few shelters with district departments), then links from referrers
 * to receivers in the same or a neighbouring district. Links obey the API: no self-links, one per pair,
 * the receiver offers every category, neither end closed.
 */
function generateNetwork(providers: DemoProvider[], districtOf: Map<string, string>) {
  const areaName = new Map(
    [...source.BGD.divisions, ...source.BGD.districts, ...source.KHM.provinces, ...source.KHM.districts].map((u) => [u.pcode, u.name_en]),
  )
  const countryOf = (p: DemoProvider): Country => (demoIdOf(p).startsWith('BGD') ? 'BGD' : 'KHM')
  const note = (what: string) => `DEMO DATA — fictitious ${what}, generated by scripts/generate-seeds.ts. Not a real agreement or referral route.`

  // --- MOUs
  const mous: DemoMou[] = []
  const mousOf = new Map<string, { categories: Category[]; state: MouState; signed_on: string | null }[]>()
  let serial = 0
  let stateDeck: MouState[] = []
  const nextState = () => {
    if (!stateDeck.length) stateDeck = shuffled(MOU_STATE_DECK)
    return stateDeck.pop()!
  }
  type MouDates = ReturnType<typeof mouDates>
  const addMou = (p: DemoProvider, categories: Category[], state: MouState, renews?: string, fixed?: MouDates) => {
    const country = countryOf(p)
    const district = districtOf.get(demoIdOf(p))!
    const province = district.slice(0, 4)
    const party = counterpartyFor(country, categories[0], province, areaName.get(province)!, district, areaName.get(district)!)
    const dates = fixed ?? mouDates(state)
    serial++
    const year = (dates.signed_on ?? REFERENCE_DAY).slice(0, 4)
    const document_ref = `DEMO-MOU/${country}/${year}/${String(serial).padStart(3, '0')}`
    const status = state === 'negotiating' || state === 'draft' || state === 'terminated' ? state : state === 'lapsed' ? 'expired' : 'signed'
    mous.push({
      provider: demoIdOf(p),
      ...(renews ? { renews } : {}),
      ...party,
      funding_project: chance(0.4) ? pick(DONOR_PROJECTS[country]) : null,
      categories,
      status,
      ...dates,
      document_ref,
      notes: note(`agreement (${MOU_NOTES[state]})`),
    })
    const list = mousOf.get(demoIdOf(p)) ?? []
    list.push({ categories, state, signed_on: dates.signed_on })
    mousOf.set(demoIdOf(p), list)
    return document_ref
  }
  for (const p of providers) {
    const country = countryOf(p)
    const cats = p.categories as Category[]
    if (p.kind !== 'ngo' && p.kind !== 'international') continue
    if (country === 'KHM') {
      if (cats.includes('shelter')) {
        const first: Category[] = chance(0.3) && cats.includes('counselling') ? ['shelter', 'counselling'] : ['shelter']
        // An MOU that expired and was renewed: the history a long-running shelter usually has.
        const state = nextState()
        if ((state === 'current' || state === 'expiring') && chance(0.5)) {
          // The renewal is signed a few weeks after the original expired.
          const dates = mouDates(state)
          const lapsedOn = addDays(dates.signed_on!, -between(1, 45))
          const original = addMou(p, first, 'expired', undefined, { signed_on: addDays(lapsedOn, -pick([730, 1095])), expires_on: lapsedOn })
          addMou(p, first, state, original, dates)
        } else addMou(p, first, state)
        if (cats.includes('health') && chance(0.8)) addMou(p, ['health'], nextState())
      } else if (cats.includes('legal') && chance(0.4)) addMou(p, ['legal'], nextState())
      else if (cats.includes('livelihood') && chance(0.2)) addMou(p, ['livelihood'], nextState())
    } else {
      if (cats.includes('shelter') && chance(0.5)) {
        addMou(p, chance(0.5) && cats.includes('counselling') ? ['shelter', 'counselling'] : ['shelter'], nextState())
      }
      if (cats.includes('health') && chance(0.25)) addMou(p, ['health'], nextState())
    }
  }

  // --- Links
  const referrerKinds: Record<Kind, { receivers: Kind[]; out: [number, number] }> = {
    focal_point: { receivers: ['ngo', 'government', 'community_group', 'international'], out: [1, 2] },
    survivor_group: { receivers: ['ngo', 'government', 'international', 'private'], out: [1, 2] },
    community_group: { receivers: ['ngo', 'government', 'international', 'private'], out: [1, 2] },
    ngo: { receivers: ['government', 'ngo', 'private', 'international'], out: [0, 1] },
    international: { receivers: ['ngo', 'government'], out: [0, 1] },
    government: { receivers: ['ngo', 'government', 'international'], out: [0, 1] },
    private: { receivers: [], out: [0, 0] },
  }
  const isGov = (p: DemoProvider) => p.kind === 'government'
  const isOrg = (p: DemoProvider) => p.kind === 'ngo' || p.kind === 'international'
  const links: DemoLink[] = []
  const pairs = new Set<string>()
  // Most demo providers read as broken on the anchor day (stale verification, ended funding), so links
  // favour healthy ends; otherwise nearly every link would be broken and the demo would show little else.
  const weightOf: Record<Condition, number> = { ok: 6, at_risk: 6, broken: 1 }
  const holdsCurrentMou = (p: DemoProvider) =>
    (mousOf.get(demoIdOf(p)) ?? []).some((m) => m.state === 'current' || m.state === 'expiring')

  for (const from of providers) {
    if (from.status === 'closed') continue
    const country = countryOf(from)
    const rule = referrerKinds[from.kind as Kind]
    if (!rule.receivers.length) continue
    // Cambodian government offices are where most MOU-based referrals to NGO shelters start.
    const healthy = conditionOf(from) !== 'broken'
    const [lo, hi] = country === 'KHM' && isGov(from) ? [1, 2] : rule.out
    const wanted = healthy ? between(lo + 1, hi + 1) : chance(0.45) ? between(lo, hi) : 0
    if (!wanted) continue
    const fromDistrict = districtOf.get(demoIdOf(from))!
    const candidates = providers.filter(
      (to) =>
        to !== from && to.status !== 'closed' && countryOf(to) === country && rule.receivers.includes(to.kind as Kind) &&
        !pairs.has(`${demoIdOf(from)}>${demoIdOf(to)}`) &&
        (districtOf.get(demoIdOf(to)) === fromDistrict || distanceKm(from, to) <= (country === 'BGD' ? 55 : 45)),
    )
    const ordered = weightedOrder(candidates, (to) =>
      weightOf[conditionOf(to)] * (districtOf.get(demoIdOf(to)) === fromDistrict ? 3 : 1) *
      (country === 'KHM' && isGov(from) ? (holdsCurrentMou(to) ? 6 : mousOf.has(demoIdOf(to)) ? 3 : 1) : 1))
    for (const to of ordered.slice(0, wanted)) {
      const offered = to.categories as Category[]
      const toMous = mousOf.get(demoIdOf(to)) ?? []
      let categories: Category[] = shuffled(offered).slice(0, chance(0.35) ? 2 : 1)
      let basis: DemoLink['basis']
      let established = addDays(REFERENCE_DAY, -between(60, 1500))
      if (country === 'BGD' && to.eligibility.requires.includes('court_order') && offered.includes('shelter')) {
        basis = 'court_order'
        categories = ['shelter']
      } else if (country === 'KHM' && isGov(from) && isOrg(to) && toMous.length && chance(0.85)) {
        // Government offices refer to NGOs under the NGO's MOU with the ministry or department.
        const current = toMous.filter((m) => m.state === 'current' || m.state === 'expiring')
        const mou = current.length && chance(0.8) ? pick(current) : pick(toMous)
        basis = 'mou'
        categories = mou.categories.filter((c) => offered.includes(c))
        if (mou.signed_on && mou.signed_on > established) established = mou.signed_on
      } else if (country === 'KHM' && ((isGov(from) && isOrg(to)) || (isOrg(from) && isGov(to)))) {
        basis = 'sop'
      } else if (from.kind === 'focal_point' || from.kind === 'survivor_group' || from.kind === 'community_group') {
        basis = chance(0.6) ? 'informal' : 'sop'
      } else {
        basis = chance(0.65) ? 'sop' : 'informal'
      }
      if (!categories.length) continue
      pairs.add(`${demoIdOf(from)}>${demoIdOf(to)}`)
      const status = chance(0.08) ? 'inactive' : 'active'
      const lastUsed = chance(0.75) ? addDays(REFERENCE_DAY, -between(status === 'active' ? 2 : 200, 400)) : null
      links.push({
        from: demoIdOf(from),
        to: demoIdOf(to),
        categories: CATEGORY_ORDER.filter((c) => categories.includes(c)),
        basis,
        status,
        established_on: established,
        last_used_on: lastUsed && lastUsed >= established ? lastUsed : null,
        notes: note(`referral link (${basis.replace('_', ' ')})`),
      })
    }
  }
  return { mous, links }
}

const CATEGORY_ORDER: Category[] = ['health', 'legal', 'counselling', 'shelter', 'livelihood']

// ---------------------------------------------------------------------------------------------
// Focal points of the unions and communes: where a union's referral pathway starts

/** Seed of the focal points' own PRNG stream (see `rand`). */
const FOCAL_POINT_SEED = 20261124
/** Upazilas whose every union has a focal point: Sharsha (Benapole crossing), Jashore Sadar, Jhikargachha,
 *  Kalaroa, Satkhira Sadar, Shyamnagar (the Sundarbans edge). Every Cambodian commune in the set has one. */
const FOCAL_UPAZILAS = ['BD404190', 'BD404147', 'BD404123', 'BD408743', 'BD408782', 'BD408786']
/** Paurashavas (99) and the Sundarbans forest range (97) have no Union Parishad. */
const isUnionParishad = (pcode: string) => Number(pcode.slice(-2)) < 97

const UNION_FOCAL_TEMPLATES: Record<Country, Template[]> = {
  BGD: [
    { kind: 'focal_point', categories: ['legal', 'counselling'], en: (p) => `Union Parishad member focal point, ${p.name_en}`, local: (p) => `ইউনিয়ন পরিষদ সদস্য ফোকাল পয়েন্ট, ${p.name_local}`, cost: 'free', hours: 'Su-Th 10:00-16:00' },
    { kind: 'focal_point', categories: ['counselling'], en: (p) => `Union CTC member focal point, ${p.name_en}`, local: (p) => `ইউনিয়ন মানব পাচার প্রতিরোধ কমিটি সদস্য ফোকাল পয়েন্ট, ${p.name_local}`, cost: 'free', hours: 'Sa-Th 09:00-17:00' },
  ],
  KHM: [
    { kind: 'focal_point', categories: ['counselling', 'legal'], en: (p) => `Commune council focal person, ${p.name_en}`, local: (p) => `អ្នកទំនាក់ទំនងក្រុមប្រឹក្សាឃុំ ${p.name_local}`, cost: 'free', hours: 'Mo-Fr 08:00-16:00' },
    { kind: 'focal_point', categories: ['counselling'], en: (p) => `Commune Committee for Women and Children focal point, ${p.name_en}`, local: (p) => `អ្នកទំនាក់ទំនងគណៈកម្មាធិការទទួលបន្ទុកកិច្ចការនារី និងកុមារ ${p.name_local}`, cost: 'free', hours: 'Mo-Fr 08:00-16:00' },
  ],
}

/** Services at upazila and commune level, so a union's directory lists something close by. */
const LOCAL_SERVICE_TEMPLATES: Record<Country, { shelter: Template[]; other: Template[] }> = {
  BGD: {
    shelter: BGD_TEMPLATES.filter((t) => t.kind === 'ngo' && t.categories.includes('shelter')),
    other: [
      { kind: 'government', categories: ['health'], en: (p) => `Upazila Health Complex, ${p.name_en}`, local: (p) => `উপজেলা স্বাস্থ্য কমপ্লেক্স, ${p.name_local}`, cost: 'free', hours: '24/7' },
      { kind: 'government', categories: ['counselling', 'legal'], en: (p) => `Upazila Women Affairs Office, ${p.name_en}`, local: (p) => `উপজেলা মহিলা বিষয়ক কার্যালয়, ${p.name_local}`, genders: ['female'], cost: 'free', hours: 'Su-Th 09:00-17:00' },
      ...BGD_TEMPLATES.filter((t) => t.kind === 'ngo' && !t.categories.includes('shelter')),
    ],
  },
  KHM: {
    shelter: KHM_TEMPLATES.filter((t) => t.kind === 'ngo' && t.categories.includes('shelter')),
    other: [
      { kind: 'government', categories: ['health'], en: (p) => `Health Centre, ${p.name_en}`, local: (p) => `មណ្ឌលសុខភាព ${p.name_local}`, cost: 'subsidised', hours: 'Mo-Fr 07:00-17:00; Sa 07:00-11:00' },
      ...KHM_TEMPLATES.filter((t) => t.kind === 'ngo' && !t.categories.includes('shelter')),
    ],
  },
}

/** Makes a provider read as usable on the anchor day: active, verified within the last 200 days, funded past 90 days out. */
function keepUsable(p: DemoProvider, country: Country) {
  p.status = 'active'
  p.verification = { on: addDays(REFERENCE_DAY, -between(10, 200)), method: pick(['field_visit', 'phone_call'] as const), by: `${pick(VERIFIERS)} (${country})` }
  if (p.funded_until && p.funded_until < addDays(REFERENCE_DAY, 90)) p.funded_until = addDays(REFERENCE_DAY, between(120, 900))
}

/**
 * Two or three services in each upazila of the set (one of them an NGO shelter kept usable) and one per
 * Cambodian commune (the first in each district a shelter kept usable), placed inside one of the unit's
 * unions or in the commune. The other services are drawn like every other demo provider, stale ones included.
 */
function generateLocalServices(units: Record<Country, SubUnit[]>, serialFrom: number, usedNames: Set<string>, districtOf: Map<string, string>) {
  const out: DemoProvider[] = []
  const nameOf = new Map([...source.BGD.districts, ...source.KHM.provinces, ...source.KHM.districts].map((u) => [u.pcode, u] as const))
  const add = (country: Country, unit: SubUnit, area: { name_en: string; name_local: string }, parentName: string, template: Template, usable: boolean) => {
    const place: Place = {
      country, pcode: unit.feature.properties.pcode, at: unit.at, geometry: unit.feature.geometry.coordinates,
      name_en: area.name_en, name_local: area.name_local, parentName,
    }
    const p = providerFor(place, template, serialFrom + out.length, usedNames, 0.006)
    if (usable) keepUsable(p, country)
    out.push(p)
    districtOf.set(demoIdOf(p), place.pcode.slice(0, 6))
  }
  for (const z of source.BGD.upazilas) {
    const unions = units.BGD.filter((u) => u.feature.properties.parent_pcode === z.pcode)
    const district = nameOf.get(z.pcode.slice(0, 6))!.name_en
    add('BGD', pick(unions), z, district, pick(LOCAL_SERVICE_TEMPLATES.BGD.shelter), true)
    for (const template of shuffled(LOCAL_SERVICE_TEMPLATES.BGD.other).slice(0, between(1, 2))) add('BGD', pick(unions), z, district, template, false)
  }
  let district = ''
  for (const c of units.KHM) {
    const first = c.feature.properties.parent_pcode !== district
    district = c.feature.properties.parent_pcode!
    const area = { name_en: `${c.feature.properties.name_en}, ${nameOf.get(district)!.name_en}`, name_local: c.feature.properties.name_local }
    const template = first ? pick(LOCAL_SERVICE_TEMPLATES.KHM.shelter) : pick(LOCAL_SERVICE_TEMPLATES.KHM.other)
    add('KHM', c, area, nameOf.get(district.slice(0, 4))!.name_en, template, first)
  }
  return out
}

const countryOfProvider = (p: DemoProvider): Country => (demoIdOf(p).startsWith('BGD') ? 'BGD' : 'KHM')
const networkNote = (what: string) => `DEMO DATA — fictitious ${what}, generated by scripts/generate-seeds.ts. Not a real agreement or referral route.`

/**
 * First the local services (generateLocalServices), then one focal point (a Union Parishad or CTC member in Bangladesh, a commune council or CCWC focal person in
 * Cambodia: roles, never names) in each chosen union and commune, placed near the point its cell grew from,
 * active and verified within the year so a pathway can start there. Each refers, informally or by SOP, to
 * the nearest shelter that a link can reach (a usable one, by the anchor day's rules: active, verified within
 * a year, funded), and to one or two other NGO or government services nearby; a shelter that requires a
 * court order (Bangladesh's Government Safe Homes) is linked on a `court_order` basis, as elsewhere. When no
 * usable shelter is within reach, the focal point refers to a usable provider that already has a usable
 * shelter link, so the chain has two hops.
 */
function generateFocalPoints(
  units: Record<Country, SubUnit[]>, providers: DemoProvider[], links: DemoLink[], districtOf: Map<string, string>,
) {
  rand = prng(FOCAL_POINT_SEED)
  const usedNames = new Set(providers.map((p) => p.names.en))
  const services = generateLocalServices(units, providers.length + 1, usedNames, districtOf)
  providers = [...providers, ...services]
  const nameOf = new Map([...source.BGD.districts, ...source.BGD.upazilas, ...source.KHM.provinces, ...source.KHM.districts]
    .map((u) => [u.pcode, u] as const))
  const added: DemoProvider[] = [...services]
  const newLinks: DemoLink[] = []
  const stats = { direct: 0, twoHop: 0, none: [] as string[] }
  const byDemoId = new Map(providers.map((p) => [demoIdOf(p), p]))
  const usable = (p: DemoProvider) => p.status === 'active' && conditionOf(p) !== 'broken'

  for (const country of ['BGD', 'KHM'] as const) {
    const chosen = units[country].filter((u) => {
      const pcode = u.feature.properties.pcode
      return country === 'KHM' || (FOCAL_UPAZILAS.includes(pcode.slice(0, 8)) && isUnionParishad(pcode))
    })
    for (const unit of chosen) {
      const { pcode, name_en, name_local, parent_pcode } = unit.feature.properties
      const parent = nameOf.get(parent_pcode!)!
      const district = pcode.slice(0, 6)
      const place: Place = {
        country, pcode, at: unit.at, geometry: unit.feature.geometry.coordinates,
        name_en: `${name_en}, ${parent.name_en}`, name_local: `${name_local}, ${parent.name_local}`,
        parentName: nameOf.get(country === 'BGD' ? district : district.slice(0, 4))!.name_en,
      }
      const template = chance(0.6) ? UNION_FOCAL_TEMPLATES[country][0] : UNION_FOCAL_TEMPLATES[country][1]
      const fp = providerFor(place, template, providers.length - services.length + added.length + 1, usedNames, 0.006)
      // The union's focal point is where the field page's pathway starts: active, and verified this year.
      keepUsable(fp, country)
      added.push(fp)
      districtOf.set(demoIdOf(fp), district)

      const reach = country === 'BGD' ? 55 : 45
      const near = providers
        .filter((to) => countryOfProvider(to) === country && (to.kind === 'ngo' || to.kind === 'government' || to.kind === 'international') &&
          usable(to) && (districtOf.get(demoIdOf(to)) === district || distanceKm(fp, to) <= reach))
        .sort((a, b) => distanceKm(fp, a) - distanceKm(fp, b) || demoIdOf(a).localeCompare(demoIdOf(b)))
      const link = (to: DemoProvider, categories: Category[], status: 'active' | 'inactive' = 'active') => {
        const courtOrder = country === 'BGD' && to.eligibility.requires.includes('court_order') && categories.includes('shelter')
        const basis: DemoLink['basis'] = courtOrder ? 'court_order' : chance(0.6) ? 'informal' : 'sop'
        const established = addDays(REFERENCE_DAY, -between(60, 1200))
        const lastUsed = chance(0.75) ? addDays(REFERENCE_DAY, -between(2, 300)) : null
        newLinks.push({
          from: demoIdOf(fp), to: demoIdOf(to),
          categories: courtOrder ? ['shelter'] : CATEGORY_ORDER.filter((c) => categories.includes(c)),
          basis, status, established_on: established,
          last_used_on: lastUsed && lastUsed >= established ? lastUsed : null,
          notes: networkNote(`referral link (${basis.replace('_', ' ')})`),
        })
      }
      // A shelter without a court order first; a Government Safe Home when it is the only one in reach.
      const shelters = near.filter((to) => (to.categories as Category[]).includes('shelter'))
      const shelter = shelters.find((to) => !to.eligibility.requires.includes('court_order')) ?? shelters[0]
      const used = new Set<DemoProvider>()
      if (shelter) {
        link(shelter, (shelter.categories as Category[]).includes('counselling') && chance(0.4) ? ['shelter', 'counselling'] : ['shelter'])
        used.add(shelter)
        stats.direct++
      } else {
        const bridge = near.find((via) => links.some((l) => l.from === demoIdOf(via) && l.status === 'active' &&
          l.categories.includes('shelter') && usable(byDemoId.get(l.to)!)))
        if (bridge) {
          link(bridge, [pick(bridge.categories as Category[])])
          used.add(bridge)
          stats.twoHop++
        } else stats.none.push(demoIdOf(fp))
      }
      const others = shuffled(near.filter((to) => !used.has(to)).slice(0, 6)).slice(0, between(1, 2))
      for (const to of others) link(to, shuffled(to.categories as Category[]).slice(0, chance(0.35) ? 2 : 1), chance(0.08) ? 'inactive' : 'active')
    }
  }
  return { providers: added, links: newLinks, stats: { ...stats, services: services.length } }
}

async function main() {
  const target = databaseOrExit(configOrExit())
  const db = createDb(target.url, { max: 1 })
  try {
    await assertPostgisAvailable(db)
    await db.execute(sql`CREATE EXTENSION IF NOT EXISTS postgis`)
    const bgd = await bangladeshAreas(db)
    const khm = await cambodiaAreas(db)
    const bgdSub = await bangladeshSubDistricts(db, bgd.level2)
    const communes = await cambodiaCommunes(db, khm.level2)
    const files = {
      BGD_1: collection('BGD_1 divisions (demo)', bgd.level1),
      BGD_2: collection('BGD_2 districts (demo)', bgd.level2),
      BGD_3: collection('BGD_3 upazilas (demo)', bgdSub.level3),
      BGD_4: collection('BGD_4 unions and paurashavas (demo)', bgdSub.level4.map((u) => u.feature)),
      KHM_1: collection('KHM_1 provinces (demo)', khm.level1),
      KHM_2: collection('KHM_2 districts (demo)', khm.level2),
      KHM_3: collection('KHM_3 communes (demo)', communes.map((c) => c.feature)),
    }
    for (const [name, fc] of Object.entries(files)) {
      writeFileSync(path.join(SEEDS, 'areas', `${name}.geojson`), `${JSON.stringify(fc)}\n`)
      console.log(`seeds/areas/${name}.geojson: ${fc.features.length} features`)
    }
    const { providers, districtOf } = generateProviders({ BGD: bgd.level2, KHM: khm.level2 })
    const { mous, links } = generateNetwork(providers, districtOf)
    writeFileSync(path.join(SEEDS, 'mous.json'), `[\n${mous.map((m) => JSON.stringify(m)).join(',\n')}\n]\n`)
    console.log(`seeds/mous.json: ${mous.length} MOUs`)
    // Appended after everything above, from their own PRNG stream: earlier rows keep their ids and bytes.
    const focal = generateFocalPoints({ BGD: bgdSub.level4, KHM: communes }, providers, links, districtOf)
    providers.push(...focal.providers)
    links.push(...focal.links)
    console.log(`local services: ${focal.stats.services}; focal points: ${focal.providers.length - focal.stats.services} (${focal.stats.direct} refer to a shelter directly, ${focal.stats.twoHop} through one provider, ${focal.stats.none.length} cannot reach one: ${focal.stats.none.join(' ')})`)
    // One provider per line: small, and a regeneration diffs row by row.
    writeFileSync(path.join(SEEDS, 'providers.json'), `[\n${providers.map((p) => JSON.stringify(p)).join(',\n')}\n]\n`)
    console.log(`seeds/providers.json: ${providers.length} providers`)
    writeFileSync(path.join(SEEDS, 'referral-links.json'), `[\n${links.map((l) => JSON.stringify(l)).join(',\n')}\n]\n`)
    console.log(`seeds/referral-links.json: ${links.length} referral links`)
  } finally {
    await db.$client.end()
    if (target.cluster?.startedHere) target.cluster.stop()
  }
}

await main()
