import { sql } from 'drizzle-orm'
import t from 'tap'
import type { Db } from '../../src/db/client.js'
import { AreaImportError, importAreas, type AreaImportOptions } from '../../src/modules/areas/import.js'
import { buildTestApp } from '../helpers/app.js'
import { collection, divisions, feature, rect } from './fixtures.js'

const DIVISIONS: AreaImportOptions = {
  country: 'BGD', level: 1, codeField: 'code', nameField: 'name', nameLocalField: 'bn', codePrefix: 'BD', source: 'test',
}
const DISTRICTS: AreaImportOptions = { country: 'BGD', level: 2, codeField: 'code', nameField: 'name', codePrefix: 'BD' }

const rows = async (db: Db, query = sql`SELECT pcode, name_en, name_local, admin_level, level_name, parent_pcode, source, source_id FROM areas ORDER BY pcode`) =>
  (await db.execute(query)).rows

t.test('upsert by pcode: a second run of the same file changes nothing, a changed feature is updated', async (t) => {
  const { db } = await buildTestApp(t)
  const first = await importAreas(db, divisions(), DIVISIONS)
  t.same(first, { inserted: 2, updated: 0, unchanged: 0, rejected: [], parentsBySpatialJoin: 0, repaired: 0 })
  t.same(await rows(db), [
    { pcode: 'BD10', name_en: 'Alpha', name_local: 'আলফা', admin_level: 1, level_name: 'division', parent_pcode: null, source: 'test', source_id: null },
    { pcode: 'BD20', name_en: 'Beta', name_local: 'বেটা', admin_level: 1, level_name: 'division', parent_pcode: null, source: 'test', source_id: null },
  ])
  const stamps = await rows(db, sql`SELECT pcode, updated_at FROM areas ORDER BY pcode`)

  const again = await importAreas(db, divisions(), DIVISIONS)
  t.same(again, { inserted: 0, updated: 0, unchanged: 2, rejected: [], parentsBySpatialJoin: 0, repaired: 0 })
  t.same(await rows(db, sql`SELECT pcode, updated_at FROM areas ORDER BY pcode`), stamps, 'updated_at is not bumped')

  const renamed = divisions()
  ;(renamed.features[1] as { properties: Record<string, string> }).properties.name = 'Beta Prime'
  const third = await importAreas(db, renamed, DIVISIONS)
  t.same(third, { inserted: 0, updated: 1, unchanged: 1, rejected: [], parentsBySpatialJoin: 0, repaired: 0 })
  const [beta] = await rows(db, sql`SELECT name_en, updated_at > ${(stamps[1] as { updated_at: Date }).updated_at} AS bumped FROM areas WHERE pcode = 'BD20'`)
  t.same(beta, { name_en: 'Beta Prime', bumped: true })
})

t.test('codes are normalised to one prefixed form, own and parent codes alike', async (t) => {
  const { db } = await buildTestApp(t)
  await importAreas(db, divisions(), DIVISIONS)
  const report = await importAreas(
    db,
    collection(
      feature({ code: '1001', name: 'West', parent: '10' }, rect(90, 23, 90.5, 24)),
      feature({ code: 'BD1002', name: 'Middle', parent: 'BD10' }, rect(90.5, 23, 91, 24)),
      feature({ code: 2001, name: 'East', parent: 20 }, rect(91, 23, 92, 24)),
    ),
    { ...DISTRICTS, parentField: 'parent' },
  )
  t.same(report, { inserted: 3, updated: 0, unchanged: 0, rejected: [], parentsBySpatialJoin: 0, repaired: 0 })
  t.same(
    await rows(db, sql`SELECT pcode, parent_pcode FROM areas WHERE admin_level = 2 ORDER BY pcode`),
    [
      { pcode: 'BD1001', parent_pcode: 'BD10' },
      { pcode: 'BD1002', parent_pcode: 'BD10' },
      { pcode: 'BD2001', parent_pcode: 'BD20' },
    ],
  )
})

t.test('without a parent field the parent is the area one level up with the largest overlap', async (t) => {
  const { db } = await buildTestApp(t)
  await importAreas(db, divisions(), DIVISIONS)
  const report = await importAreas(
    db,
    collection(
      // 0.4° of its 0.5° width lies in Alpha (west of 91°E), 0.1° in Beta.
      feature({ code: '9001', name: 'Straddler' }, rect(90.6, 23.2, 91.1, 23.8)),
      // Mostly in Beta this time: 0.05° in Alpha, 0.25° in Beta.
      feature({ code: '9002', name: 'Leaning east' }, rect(90.95, 23.5, 91.25, 23.6)),
      // Inside Beta only: a single candidate, no overlay needed.
      feature({ code: '9003', name: 'Inside Beta' }, rect(91.2, 23.2, 91.4, 23.4)),
      // Shares Beta's east edge but no area with it.
      feature({ code: '9004', name: 'Touching' }, rect(92, 23, 92.5, 24)),
      // Nowhere near.
      feature({ code: '9005', name: 'Offshore' }, rect(95, 23, 95.5, 23.5)),
    ),
    DISTRICTS,
  )
  t.same(report, {
    inserted: 3, updated: 0, unchanged: 0, parentsBySpatialJoin: 3, repaired: 0,
    rejected: [
      { index: 3, reason: 'no level 1 area of BGD overlaps it, so it has no parent' },
      { index: 4, reason: 'no level 1 area of BGD overlaps it, so it has no parent' },
    ],
  })
  t.same(await rows(db, sql`SELECT pcode, parent_pcode FROM areas WHERE admin_level = 2 ORDER BY pcode`), [
    { pcode: 'BD9001', parent_pcode: 'BD10' },
    { pcode: 'BD9002', parent_pcode: 'BD20' },
    { pcode: 'BD9003', parent_pcode: 'BD20' },
  ])
})

t.test('a file without official codes uses the source id as pcode and keeps the source', async (t) => {
  const { db } = await buildTestApp(t)
  await importAreas(
    db,
    collection(feature({ HRPCode: 'KH12', HRName: 'Phnom Penh', km: 'ភ្នំពេញ' }, rect(104.7, 11.4, 105.0, 11.7))),
    { country: 'KHM', level: 1, codeField: 'HRPCode', nameField: 'HRName', nameLocalField: 'km' },
  )
  const report = await importAreas(
    db,
    collection(feature({ shapeID: 'GB-ADM2-0001', shapeName: 'Doun Penh' }, rect(104.9, 11.55, 104.95, 11.6))),
    { country: 'KHM', level: 2, nameField: 'shapeName', sourceIdField: 'shapeID', source: 'geoBoundaries KHM ADM2' },
  )
  t.same(report, { inserted: 1, updated: 0, unchanged: 0, rejected: [], parentsBySpatialJoin: 1, repaired: 0 })
  t.same(await rows(db), [
    { pcode: 'GB-ADM2-0001', name_en: 'Doun Penh', name_local: null, admin_level: 2, level_name: 'district', parent_pcode: 'KH12', source: 'geoBoundaries KHM ADM2', source_id: 'GB-ADM2-0001' },
    { pcode: 'KH12', name_en: 'Phnom Penh', name_local: 'ភ្នំពេញ', admin_level: 1, level_name: 'province', parent_pcode: null, source: null, source_id: null },
  ])
})

t.test('an invalid bow-tie polygon is repaired into a valid MultiPolygon of two triangles', async (t) => {
  const { db } = await buildTestApp(t)
  const bowTie = { type: 'Polygon', coordinates: [[[93, 23], [94, 24], [94, 23], [93, 24], [93, 23]]] }
  const report = await importAreas(db, collection(feature({ code: '77', name: 'Bow tie' }, bowTie)), DIVISIONS)
  t.same(report, { inserted: 1, updated: 0, unchanged: 0, rejected: [], parentsBySpatialJoin: 0, repaired: 1 })
  const [geom] = await rows(db, sql`SELECT ST_IsValid(geom) AS valid, GeometryType(geom) AS type, ST_NumGeometries(geom) AS parts,
    ST_Area(geom) AS area, ST_SRID(geom) AS srid FROM areas WHERE pcode = 'BD77'`)
  // Two triangles meeting at (93.5, 23.5), each of area 0.25 square degrees.
  t.same(geom, { valid: true, type: 'MULTIPOLYGON', parts: 2, area: 0.5, srid: 4326 })
})

t.test('bad features are rejected with their index and reason; the good ones are imported', async (t) => {
  const { db } = await buildTestApp(t)
  await importAreas(db, divisions(), DIVISIONS)
  const good = rect(90.1, 23.1, 90.2, 23.2)
  const report = await importAreas(
    db,
    collection(
      feature({ code: '1001', name: 'Good', parent: '10' }, good),
      feature({ code: '1002', name: 'No geometry', parent: '10' }, null),
      feature({ code: '1003', name: 'A point', parent: '10' }, { type: 'Point', coordinates: [90.1, 23.1] }),
      feature({ name: 'No code', parent: '10' }, good),
      feature({ code: '1005', name: '  ', parent: '10' }, good),
      feature({ code: '1001', name: 'Duplicate', parent: '10' }, good),
      feature({ code: '1007', name: 'Orphan', parent: '99' }, good),
      feature({ code: '1008', name: 'Empty', parent: '10' }, { type: 'MultiPolygon', coordinates: [] }),
      feature({ code: '1009', name: 'Projected', parent: '10' }, rect(500000, 2500000, 510000, 2510000)),
      feature({ code: '1010', name: 'Collapsed', parent: '10' }, { type: 'Polygon', coordinates: [[[90, 23], [90.5, 23], [90, 23], [90.5, 23]]] }),
      { type: 'Something' },
      feature({ code: '1012', name: 'Unclosed but fine', parent: '20' }, { type: 'Polygon', coordinates: [[[91.1, 23.1], [91.2, 23.1], [91.2, 23.2]]] }),
    ),
    { ...DISTRICTS, parentField: 'parent' },
  )
  t.same(report.rejected, [
    { index: 1, reason: 'geometry is missing' },
    { index: 2, reason: 'geometry type Point is not polygonal' },
    { index: 3, reason: 'no code in property code' },
    { index: 4, reason: 'no name in property name' },
    { index: 5, reason: 'duplicate code BD1001 (first at index 0)' },
    { index: 6, reason: 'parent code BD99 is not a level 1 area of BGD' },
    { index: 7, reason: 'geometry is empty' },
    { index: 8, reason: 'coordinate [500000, 2500000] is outside WGS 84 lon/lat (is the file projected?)' },
    { index: 9, reason: 'geometry has no polygonal area, even after repair' },
    { index: 10, reason: 'not a GeoJSON Feature' },
  ])
  t.match(report, { inserted: 2, updated: 0, unchanged: 0 })
  t.same(await rows(db, sql`SELECT pcode, name_en, parent_pcode FROM areas WHERE admin_level = 2 ORDER BY pcode`), [
    { pcode: 'BD1001', name_en: 'Good', parent_pcode: 'BD10' },
    { pcode: 'BD1012', name_en: 'Unclosed but fine', parent_pcode: 'BD20' },
  ])
})

t.test('a whole-file failure throws before anything is written', async (t) => {
  const { db } = await buildTestApp(t)
  const notACollection = importAreas(db, { type: 'Feature', geometry: null }, DIVISIONS)
  await t.rejects(notACollection, { name: 'AreaImportError', message: /not a GeoJSON FeatureCollection/ })
  await notACollection.catch((err) => t.ok(err instanceof AreaImportError))
  await t.rejects(importAreas(db, null, DIVISIONS), { message: /not a GeoJSON FeatureCollection/ })
  await t.rejects(importAreas(db, divisions(), { country: 'BGD', level: 1, nameField: 'name' }), { message: /codeField or sourceIdField/ })
  await t.rejects(importAreas(db, divisions(), { ...DIVISIONS, country: 'KHM', level: 4 }), { message: /no default name for level 4/ })
  t.same(await rows(db), [])
})

t.test('a database error rolls the whole import back', async (t) => {
  const { db } = await buildTestApp(t)
  await importAreas(db, divisions(), DIVISIONS)
  // Stands in for any failure inside the transaction (disk full, lost connection, a constraint).
  await db.execute(sql`CREATE FUNCTION fail_on_explode() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.name_en = 'Explode' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$`)
  await db.execute(sql`CREATE TRIGGER explode BEFORE INSERT OR UPDATE ON areas FOR EACH ROW EXECUTE FUNCTION fail_on_explode()`)
  const changed = collection(
    feature({ code: '10', name: 'Alpha renamed' }, rect(90, 23, 91, 24)),
    feature({ code: '20', name: 'Beta' }, rect(91, 23, 92, 24)),
    feature({ code: '30', name: 'Explode' }, rect(92, 23, 93, 24)),
  )
  await t.rejects(importAreas(db, changed, { ...DIVISIONS, nameLocalField: undefined }), { cause: { message: 'boom' } })
  t.same(await rows(db, sql`SELECT pcode, name_en FROM areas ORDER BY pcode`), [
    { pcode: 'BD10', name_en: 'Alpha' },
    { pcode: 'BD20', name_en: 'Beta' },
  ])
})

t.test('a dry run reports what would happen and writes nothing', async (t) => {
  const { db } = await buildTestApp(t)
  const report = await importAreas(db, divisions(), { ...DIVISIONS, dryRun: true })
  t.same(report, { inserted: 2, updated: 0, unchanged: 0, rejected: [], parentsBySpatialJoin: 0, repaired: 0 })
  t.same(await rows(db), [])
})

t.test("providers' stored area codes follow the imported map", async (t) => {
  const { db } = await buildTestApp(t)
  const [{ id: inside }] = (await db.execute<{ id: string }>(sql`
    INSERT INTO providers (name, search_text, kind, categories, location)
    VALUES ('Clinic', 'clinic', 'ngo', '{health}', ST_SetSRID(ST_MakePoint(91.5, 23.5), 4326)) RETURNING id`)).rows
  await importAreas(db, divisions(), DIVISIONS)
  await importAreas(db, collection(feature({ code: '2001', name: 'East', parent: '20' }, rect(91.2, 23.2, 91.8, 23.8))), {
    ...DISTRICTS,
    parentField: 'parent',
  })
  const [p] = await rows(db, sql`SELECT area_pcodes FROM providers WHERE id = ${inside}`)
  t.same(p, { area_pcodes: ['BD20', 'BD2001'] })
})
