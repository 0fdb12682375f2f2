// Checks the hand-authored codes, names and centroids in seeds/source against the real boundary files in
// ../shared/data (read here only; the demo geometry is never derived from them).
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'csv-parse/sync'
import t from 'tap'
import { sql } from 'drizzle-orm'
import { createTestDatabase } from '../helpers/db.js'
import { readSharedJson, sharedPath, skipWithoutShared } from '../helpers/shared-data.js'
import { SEEDS_DIR } from '../../src/demo/seed.js'

type LatLon = [number, number]
interface Unit { pcode: string; name_en: string; at: LatLon }
const source = JSON.parse(readFileSync(path.join(SEEDS_DIR, 'source', 'admin-units.json'), 'utf8')) as {
  BGD: { districts: Unit[]; upazilas: Unit[]; unions: Unit[] }
  KHM: { provinces: Unit[]; districts: Unit[]; communes: Unit[] }
}
interface Feature { properties: Record<string, string | number>; geometry: unknown }
const features = (file: string) => (readSharedJson(`boundaries/${file}`) as { features: Feature[] }).features
const skipWithout = (...files: string[]) => ({ skip: skipWithoutShared(...files.map((f) => `boundaries/${f}`)) })
// Romanisations differ in spaces, apostrophes and case, and for a few names in spelling.
const norm = (s: string) => s.toLowerCase().replace(/[^a-z]/g, '')
const REFERENCE_SPELLING: Record<string, string> = {
  'Sen Sok': 'Saensokh', 'Pou Senchey': 'Pur SenChey', 'Angkor Thom': 'Angkor Thum',
  // The reference has the 2011 names: Jessore, and its Sadar upazila as Kotwali.
  'Jashore Sadar': 'Kotwali', 'Jashore Paurashava': 'Jessore Paurashava',
}
const spelled = (name: string) => norm(REFERENCE_SPELLING[name] ?? name)
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

// Upazilas, unions and communes: codes and names checked one by one. Their centroids were written from
// general knowledge too, which is coarse at this scale: most land within some kilometres of the real unit,
// not inside it (the comment below prints how many do). The check catches a wrong place, not imprecision;
// upazilas are held to a tighter bound than unions since their towns are well known.
const MAX_UPAZILA_MISS_KM = 10
const MAX_UNION_MISS_KM = MAX_MISS_KM
const MAX_COMMUNE_MISS_KM = MAX_MISS_KM
const districtsWithUnions = [...new Set(source.BGD.upazilas.map((u) => u.pcode.slice(0, 6)))]

t.test('Bangladesh upazilas and unions: every one of their districts, with the BBS codes and names', skipWithout('BGD_ADM3.geojson', 'BGD_ADM4.geojson'), async (t) => {
  // ADM1-3 codes lack the BD prefix, ADM4 codes (own and parents') carry it: see ../shared/data/README.md.
  const adm3 = features('BGD_ADM3.geojson').filter((f) => districtsWithUnions.includes(`BD${f.properties.ADM2_PCODE}`))
  const adm4 = features('BGD_ADM4.geojson').filter((f) => districtsWithUnions.includes(String(f.properties.ADM2_PCODE)))
  t.same(source.BGD.upazilas.map((u) => [u.pcode, spelled(u.name_en)]).sort(),
    adm3.map((f) => [`BD${f.properties.ADM3_PCODE}`, norm(String(f.properties.Upazila))]).sort(), 'all upazilas, codes and names')
  t.same(source.BGD.unions.map((u) => [u.pcode, spelled(u.name_en)]).sort(),
    adm4.map((f) => [String(f.properties.ADM4_PCODE), norm(String(f.properties.Union))]).sort(), 'all unions and paurashavas, codes and names')
  const parentOf = new Map(adm4.map((f) => [String(f.properties.ADM4_PCODE), String(f.properties.ADM3_PCODE)]))
  for (const u of source.BGD.unions) if (parentOf.get(u.pcode) !== u.pcode.slice(0, 8)) t.fail(`${u.pcode} ${u.name_en}: upazila`)
})

/** Communes of the Cambodian districts that have them, from the derived hierarchy (names only: no codes there). */
function referenceCommunes() {
  const rows = parse(readFileSync(sharedPath('boundaries/KHM_hierarchy_derived.csv')), { columns: true }) as Record<string, string>[]
  const districtName = new Map(source.KHM.districts.map((d) => [d.pcode, d.name_en]))
  const geometry = new Map(features('KHM_ADM3.geojson').map((f) => [String(f.properties.shapeID), f.geometry]))
  const wanted = [...new Set(source.KHM.communes.map((c) => c.pcode.slice(0, 6)))]
  return wanted.map((d) => ({
    district: d,
    communes: rows.filter((r) => r.level === 'ADM3' && r.adm1_HRPCode === d.slice(0, 4) && norm(r.adm2_shapeName) === spelled(districtName.get(d)!))
      .map((r) => ({ name: r.shapeName, geometry: geometry.get(r.shapeID) })),
  }))
}

t.test('Cambodian communes: every commune of their districts, by name', skipWithout('KHM_ADM3.geojson', 'KHM_hierarchy_derived.csv'), async (t) => {
  for (const { district, communes } of referenceCommunes()) {
    t.ok(communes.length > 0, `${district} has communes in the reference`)
    t.same(source.KHM.communes.filter((c) => c.pcode.startsWith(district)).map((c) => spelled(c.name_en)).sort(),
      communes.map((c) => norm(c.name)).sort(), `${district}: the same communes`)
  }
})

t.test('every hand-authored upazila, union and commune centroid lies near the real unit', skipWithout('BGD_ADM3.geojson', 'BGD_ADM4.geojson', 'KHM_ADM3.geojson', 'KHM_hierarchy_derived.csv'), async (t) => {
  const database = await createTestDatabase()
  t.teardown(() => database.drop())
  const db = database.db
  const checks: { what: string; at: LatLon; geometry: unknown; maxKm: number }[] = []
  const adm3 = new Map(features('BGD_ADM3.geojson').map((f) => [`BD${f.properties.ADM3_PCODE}`, f.geometry]))
  for (const u of source.BGD.upazilas) checks.push({ what: `${u.pcode} ${u.name_en}`, at: u.at, geometry: adm3.get(u.pcode), maxKm: MAX_UPAZILA_MISS_KM })
  const adm4 = new Map(features('BGD_ADM4.geojson').map((f) => [String(f.properties.ADM4_PCODE), f.geometry]))
  for (const u of source.BGD.unions) checks.push({ what: `${u.pcode} ${u.name_en}`, at: u.at, geometry: adm4.get(u.pcode), maxKm: MAX_UNION_MISS_KM })
  for (const { district, communes } of referenceCommunes()) {
    for (const c of source.KHM.communes.filter((x) => x.pcode.startsWith(district))) {
      const real = communes.find((r) => norm(r.name) === spelled(c.name_en))!
      checks.push({ what: `${c.pcode} ${c.name_en}`, at: c.at, geometry: real.geometry, maxKm: MAX_COMMUNE_MISS_KM })
    }
  }
  const { rows } = await db.execute<{ what: string; km: number; max_km: number }>(sql`
    SELECT what, km, max_km FROM (
      SELECT what, max_km, ST_Distance(ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography,
                                       ST_SetSRID(ST_GeomFromGeoJSON(g), 4326)::geography) / 1000 AS km
      FROM unnest(${sql.param(checks.map((c) => c.what))}::text[], ${sql.param(checks.map((c) => c.at[0]))}::float8[],
                  ${sql.param(checks.map((c) => c.at[1]))}::float8[], ${sql.param(checks.map((c) => JSON.stringify(c.geometry)))}::text[],
                  ${sql.param(checks.map((c) => c.maxKm))}::float8[]) AS c(what, lat, lon, g, max_km)) d
    ORDER BY km DESC`)
  t.equal(rows.length, checks.length)
  const inside = rows.filter((r) => r.km === 0).length
  const median = rows[Math.floor(rows.length / 2)].km
  t.comment(`${inside} of ${rows.length} centroids inside their real unit, median miss ${median.toFixed(1)} km; furthest: ${rows.slice(0, 3).map((r) => `${r.what} ${r.km.toFixed(1)} km`).join(', ')}`)
  t.same(rows.filter((r) => r.km > r.max_km).map((r) => `${r.what}: ${r.km.toFixed(1)} km`), [], 'no centroid is further from its real unit than the tolerance')
})
