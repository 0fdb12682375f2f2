// Checks the hand-authored codes, names and centroids in seeds/source against the real boundary files in
// ../shared/data (read here only; the demo geometry is never derived from them).
import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { sql } from 'drizzle-orm'
import { createTestDatabase } from '../helpers/db.js'
import { readSharedJson, skipWithoutShared } from '../helpers/shared-data.js'
import { SEEDS_DIR } from '../../src/demo/seed.js'

type LatLon = [number, number]
interface Unit { pcode: string; name_en: string; at: LatLon }
const source = JSON.parse(readFileSync(path.join(SEEDS_DIR, 'source', 'admin-units.json'), 'utf8')) as {
  BGD: { districts: Unit[] }
  KHM: { provinces: Unit[]; districts: Unit[] }
}
interface Feature { properties: Record<string, string | number>; geometry: unknown }
const features = (file: string) => (readSharedJson(`boundaries/${file}`) as { features: Feature[] }).features
const skipWithout = (...files: string[]) => ({ skip: skipWithoutShared(...files.map((f) => `boundaries/${f}`)) })
// Romanisations differ in spaces, apostrophes and case, and for a few names in spelling.
const norm = (s: string) => s.toLowerCase().replace(/[^a-z]/g, '')
const REFERENCE_SPELLING: Record<string, string> = { 'Sen Sok': 'Saensokh', 'Pou Senchey': 'Pur SenChey', 'Angkor Thom': 'Angkor Thum' }
// Khans created in 2019, after the reference file (197 districts) was made: checked against Phnom Penh instead.
const NEWER_THAN_REFERENCE = new Set(['KH1213', 'KH1214'])
// Hand-authored from general knowledge, so a centroid may miss its unit by some kilometres; the worst
// today is Kampong Rou at about 19 km. Further than this means a wrong place, not an imprecise one.
const MAX_MISS_KM = 25

t.test('Bangladesh district codes and divisions match the BBS codes', skipWithout('BGD_ADM2.geojson'), async (t) => {
  const real = features('BGD_ADM2.geojson').map((f) => `BD${f.properties.ADM2_PCODE}`).sort()
  t.same(source.BGD.districts.map((d) => d.pcode).sort(), real)
  const parentOf = new Map(features('BGD_ADM2.geojson').map((f) => [`BD${f.properties.ADM2_PCODE}`, `BD${f.properties.ADM1_PCODE}`]))
  for (const d of source.BGD.districts) t.equal(d.pcode.slice(0, 4), parentOf.get(d.pcode), `${d.name_en} division`)
})

t.test('Cambodian province codes and names match', skipWithout('KHM_ADM1.geojson'), async (t) => {
  const real = features('KHM_ADM1.geojson').map((f) => [String(f.properties.HRPCode), norm(String(f.properties.HRName))]).sort()
  t.same(source.KHM.provinces.map((p) => [p.pcode, norm(p.name_en)]).sort(), real)
})

const centroidFiles = skipWithout('BGD_ADM2.geojson', 'KHM_ADM1.geojson', 'KHM_ADM2.geojson')
t.test(`every hand-authored centroid lies within ${MAX_MISS_KM} km of the real unit of that code or name`, centroidFiles, async (t) => {
  const database = await createTestDatabase()
  t.teardown(() => database.drop())
  const db = database.db
  const checks: { what: string; at: LatLon; geometry: unknown }[] = []
  const bgd = new Map(features('BGD_ADM2.geojson').map((f) => [`BD${f.properties.ADM2_PCODE}`, f.geometry]))
  for (const d of source.BGD.districts) checks.push({ what: `${d.pcode} ${d.name_en}`, at: d.at, geometry: bgd.get(d.pcode) })
  const khm1 = new Map(features('KHM_ADM1.geojson').map((f) => [String(f.properties.HRPCode), f.geometry]))
  for (const p of source.KHM.provinces) checks.push({ what: `${p.pcode} ${p.name_en}`, at: p.at, geometry: khm1.get(p.pcode) })
  const khm2 = features('KHM_ADM2.geojson')
  for (const d of source.KHM.districts) {
    if (NEWER_THAN_REFERENCE.has(d.pcode)) {
      checks.push({ what: `${d.pcode} ${d.name_en}`, at: d.at, geometry: khm1.get('KH12') })
      continue
    }
    const spelling = norm(REFERENCE_SPELLING[d.name_en] ?? d.name_en)
    const named = khm2.filter((f) => norm(String(f.properties.shapeName)) === spelling)
    t.ok(named.length > 0, `${d.pcode} ${d.name_en} is a real district name`)
    // Several districts share a name with their province town (Battambang, Siem Reap, Svay Rieng): take the nearest.
    for (const f of named) checks.push({ what: `${d.pcode} ${d.name_en}`, at: d.at, geometry: f.geometry })
  }
  const { rows } = await db.execute<{ what: string; km: number }>(sql`
    SELECT what, min(ST_Distance(ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography,
                                 ST_SetSRID(ST_GeomFromGeoJSON(g), 4326)::geography)) / 1000 AS km
    FROM unnest(${sql.param(checks.map((c) => c.what))}::text[], ${sql.param(checks.map((c) => c.at[0]))}::float8[],
                ${sql.param(checks.map((c) => c.at[1]))}::float8[], ${sql.param(checks.map((c) => JSON.stringify(c.geometry)))}::text[])
         AS c(what, lat, lon, g)
    GROUP BY what HAVING min(ST_Distance(ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography,
                                         ST_SetSRID(ST_GeomFromGeoJSON(g), 4326)::geography)) > ${MAX_MISS_KM * 1000}
    ORDER BY what`)
  t.same(rows, [], `no centroid is more than ${MAX_MISS_KM} km from its real unit`)
})
