// The committed demo boundaries (seeds/areas) are well-formed and nest: checked file by file and in PostGIS.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { sql } from 'drizzle-orm'
import { createTestDatabase } from '../helpers/db.js'
import { DEMO_AREA_FILES, SEEDS_DIR, readDemoAreas } from '../../src/demo/seed.js'

interface Feature {
  type: string
  properties: { pcode: string; name_en: string; name_local: string | null; parent_pcode: string | null; demo: boolean }
  geometry: { type: string; coordinates: number[][][][] }
}
const files = DEMO_AREA_FILES.map((f) => ({ ...f, features: (readDemoAreas(f.file) as { features: Feature[] }).features }))
const all = files.flatMap((f) => f.features.map((feature) => ({ ...f, feature })))
type SourceUnit = { pcode: string; name_en: string; name_local: string }
const source = JSON.parse(readFileSync(path.join(SEEDS_DIR, 'source', 'admin-units.json'), 'utf8')) as {
  outlines: Record<string, number[][]>
  BGD: Record<'divisions' | 'districts' | 'upazilas' | 'unions', SourceUnit[]>
  KHM: Record<'provinces' | 'districts' | 'communes', SourceUnit[]>
}
const outlines = source.outlines
// The hand-authored units behind each file: every one becomes exactly one feature.
const SOURCE_OF: Record<string, SourceUnit[]> = {
  'BGD_1.geojson': source.BGD.divisions, 'BGD_2.geojson': source.BGD.districts,
  'BGD_3.geojson': source.BGD.upazilas, 'BGD_4.geojson': source.BGD.unions,
  'KHM_1.geojson': source.KHM.provinces, 'KHM_2.geojson': source.KHM.districts, 'KHM_3.geojson': source.KHM.communes,
}
// Digits after the country prefix, per level: BD40 / BD4041 / BD404190 / BD40419025, KH01 / KH0110 / KH011002.
const CODE_DIGITS: Record<string, Record<number, number>> = { BGD: { 1: 2, 2: 4, 3: 6, 4: 8 }, KHM: { 1: 2, 2: 4, 3: 6 } }
const BENGALI = /[\u0980-\u09FF]/
const KHMER = /[\u1780-\u17FF]/

t.test('each file holds the expected units as demo MultiPolygons', async (t) => {
  const counts = Object.fromEntries(files.map((f) => [f.file, f.features.length]))
  t.same(counts, Object.fromEntries(Object.entries(SOURCE_OF).map(([file, units]) => [file, units.length])))
  t.same(Object.keys(counts).sort(), Object.keys(SOURCE_OF).sort(), 'every level of the source has its file')
  t.same(files.slice(0, 2).map((f) => f.features.length), [8, 64], 'every division and district of Bangladesh')
  t.ok(source.BGD.upazilas.length >= 10 && source.BGD.unions.length >= 100, 'upazilas and unions of at least two districts')
  t.equal(new Set(source.BGD.upazilas.map((u) => u.pcode.slice(0, 6))).size, 2, 'two Bangladeshi districts below district level')
  t.equal(new Set(source.KHM.communes.map((c) => c.pcode.slice(0, 6))).size, 2, 'two Cambodian districts below district level')
  for (const { file, feature } of all) {
    t.equal(feature.type, 'Feature')
    t.equal(feature.geometry.type, 'MultiPolygon', `${feature.properties.pcode} is a MultiPolygon`)
    t.equal(feature.properties.demo, true, `${feature.properties.pcode} is marked demo`)
    t.ok(feature.properties.name_en && feature.properties.name_local, `${feature.properties.pcode} has both names`)
    const script = file.startsWith('BGD') ? BENGALI : KHMER
    if (!script.test(feature.properties.name_local ?? '')) t.fail(`${feature.properties.pcode}: local name not in ${file.startsWith('BGD') ? 'Bangla' : 'Khmer'} script`)
    const unit = SOURCE_OF[file].find((u) => u.pcode === feature.properties.pcode)
    t.same(unit && [unit.name_en, unit.name_local], [feature.properties.name_en, feature.properties.name_local], `${feature.properties.pcode} named as in the source`)
  }
})

t.test('pcodes are unique and well-formed; every parent exists one level up in the same country', async (t) => {
  const pcodes = all.map((a) => a.feature.properties.pcode)
  t.equal(new Set(pcodes).size, pcodes.length, 'no pcode repeats')
  const levelOf = new Map(all.map((a) => [a.feature.properties.pcode, { level: a.level, country: a.country }]))
  for (const { country, level, feature } of all) {
    const { pcode, parent_pcode } = feature.properties
    t.match(pcode, new RegExp(`^${country === 'BGD' ? 'BD' : 'KH'}\\d{${CODE_DIGITS[country][level]}}$`))
    if (level === 1) {
      t.equal(parent_pcode, null, `${pcode} has no parent`)
    } else {
      t.same(levelOf.get(parent_pcode!), { level: level - 1, country }, `${pcode}'s parent ${parent_pcode} is one level up`)
      t.equal(pcode.slice(0, parent_pcode!.length), parent_pcode, `${pcode} carries its parent's code`)
    }
  }
  const khmProvinces = files.find((f) => f.file === 'KHM_1.geojson')!.features.map((f) => f.properties.pcode)
  t.same(khmProvinces, Array.from({ length: 25 }, (_, i) => `KH${String(i + 1).padStart(2, '0')}`), 'KH01..KH25')
})

t.test('in PostGIS: valid, inside the country outline, inside the parent, and tiling the parent', async (t) => {
  const database = await createTestDatabase()
  t.teardown(() => database.drop())
  const db = database.db
  await db.execute(sql`CREATE TEMP TABLE demo_areas (pcode text, country text, level int, parent text, geom geometry)`)
  for (const { country, level, feature } of all) {
    await db.execute(sql`INSERT INTO demo_areas VALUES (${feature.properties.pcode}, ${country}, ${level},
      ${feature.properties.parent_pcode}, ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify(feature.geometry)}), 4326))`)
  }
  for (const [country, ring] of Object.entries(outlines)) {
    await db.execute(sql`INSERT INTO demo_areas VALUES (${country}, ${country}, 0, NULL,
      ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(${JSON.stringify({ type: 'Polygon', coordinates: [ring] })}), 4326)))`)
  }

  const invalid = await db.execute<{ pcode: string }>(sql`SELECT pcode FROM demo_areas WHERE level > 0 AND NOT ST_IsValid(geom)`)
  t.same(invalid.rows, [], 'every geometry is valid')

  // Snapping to the 5-decimal grid moves a vertex by up to 0.7e-5 degrees (under a metre), so "inside"
  // means inside the outline grown by 2e-5 degrees.
  const outside = await db.execute<{ pcode: string }>(sql`
    SELECT d.pcode FROM demo_areas d JOIN demo_areas c ON c.level = 0 AND c.country = d.country
    WHERE d.level > 0 AND NOT ST_CoveredBy(d.geom, ST_Buffer(c.geom, 2e-5))`)
  t.same(outside.rows, [], 'every area lies within its country outline')

  const outsideParent = await db.execute<{ pcode: string }>(sql`
    SELECT d.pcode FROM demo_areas d JOIN demo_areas p ON p.pcode = d.parent AND p.level = d.level - 1
    WHERE NOT ST_CoveredBy(d.geom, ST_Buffer(p.geom, 2e-5))`)
  t.same(outsideParent.rows, [], 'every area lies within its parent')

  // BGD divisions are exactly the union of their districts, and so on down: KHM provinces with demo
  // districts, districts with upazilas or communes, upazilas with unions.
  // Divisions and provinces are unions of cells of one diagram, so they match to 1e-6 square degrees. Units below
  // a district are cells clipped to the district's polygon: where a cell edge crosses the district's boundary
  // the crossing is snapped to the grid, off the boundary by at most 0.7e-5 degrees, so children and
  // parent differ only in a band that thin along the parent's boundary.
  const gaps = await db.execute<{ pcode: string; gap: number }>(sql`
    SELECT p.pcode, ST_Area(ST_SymDifference(p.geom, ST_Union(d.geom))) AS gap
    FROM demo_areas p JOIN demo_areas d ON d.parent = p.pcode
    GROUP BY p.pcode, p.geom, p.level
    HAVING ST_Area(ST_SymDifference(p.geom, ST_Union(d.geom))) > CASE WHEN p.level >= 2 THEN ST_Perimeter(p.geom) * 0.7e-5 ELSE 1e-6 END`)
  t.same(gaps.rows, [], 'children tile their parent')
  const parents = await db.execute<{ level: number; n: number }>(sql`
    SELECT p.level, count(DISTINCT p.pcode)::int AS n FROM demo_areas p JOIN demo_areas d ON d.parent = p.pcode
    WHERE p.level >= 2 GROUP BY p.level ORDER BY p.level`)
  t.same(parents.rows, [{ level: 2, n: 4 }, { level: 3, n: source.BGD.upazilas.length }],
    'the tiling check covered the four districts with children and every upazila')

  // A union, upazila or commune in two pieces would read as two places on the field page's map.
  const split = await db.execute<{ pcode: string }>(sql`SELECT pcode FROM demo_areas WHERE level >= 3 AND ST_NumGeometries(geom) > 1`)
  t.same(split.rows, [], 'every upazila, union and commune is one polygon')

  const overlaps = await db.execute<{ a: string; b: string }>(sql`
    SELECT a.pcode AS a, b.pcode AS b FROM demo_areas a JOIN demo_areas b
      ON a.level = b.level AND a.level > 0 AND a.pcode < b.pcode AND a.geom && b.geom
    WHERE ST_Area(ST_Intersection(a.geom, b.geom)) > 1e-6`)
  t.same(overlaps.rows, [], 'areas of one level do not overlap')

  const covered = await db.execute<{ country: string; share: number }>(sql`
    SELECT c.country, ST_Area(ST_Union(d.geom)) / ST_Area(c.geom) AS share
    FROM demo_areas c JOIN demo_areas d ON d.country = c.country AND d.level = 1
    WHERE c.level = 0 GROUP BY c.country, c.geom ORDER BY c.country`)
  for (const r of covered.rows) t.ok(Math.abs(r.share - 1) < 1e-4, `${r.country} level 1 covers the outline (${r.share})`)
})
