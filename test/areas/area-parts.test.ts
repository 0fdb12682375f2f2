// area_parts, the subdivided copy of every area's polygon that point-in-polygon lookups use: it must follow every
// write of an area, and every lookup through it must answer exactly what ST_Covers on areas.geom answers.
import { randomBytes } from 'node:crypto'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sql, type SQL } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import { migrate } from 'drizzle-orm/node-postgres/migrator'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import t from 'tap'
import { createDb, type Db } from '../../src/db/client.js'
import { MIGRATIONS_DIR, migrateDatabase } from '../../src/db/migrate.js'
import { importAreas, type AreaImportOptions } from '../../src/modules/areas/import.js'
import { pcodesCovering } from '../../src/modules/areas/spatial.js'
import { buildTestApp } from '../helpers/app.js'
import { closePool, serverUrl } from '../helpers/db.js'
import { collection, feature, rect, starDistrict, wavyDivisions } from './fixtures.js'

const DIVISIONS: AreaImportOptions = { country: 'BGD', level: 1, codeField: 'code', nameField: 'name', codePrefix: 'BD' }
const DISTRICTS: AreaImportOptions = { country: 'BGD', level: 2, codeField: 'code', nameField: 'name', parentField: 'parent', codePrefix: 'BD' }

interface Asserts {
  same(found: unknown, wanted: unknown, message: string): boolean
}

/**
 * area_parts holds exactly the pieces of each area's current polygon: the pieces a fresh ST_Subdivide gives (so no
 * stale piece of an old polygon is left), at most 64 vertices each, and, computed independently of the
 * subdivision, their union is the polygon.
 */
async function checkPartsFollowAreas(t: Asserts, db: Db) {
  const stale = await db.execute(sql`
    WITH stored AS (SELECT pcode, ST_AsEWKB(geom) AS g, count(*) AS n FROM area_parts GROUP BY 1, 2),
         fresh AS (SELECT a.pcode, ST_AsEWKB(piece) AS g, count(*) AS n FROM areas a, area_pieces(a.geom) piece GROUP BY 1, 2)
    SELECT pcode FROM (SELECT * FROM stored EXCEPT SELECT * FROM fresh) x
    UNION SELECT pcode FROM (SELECT * FROM fresh EXCEPT SELECT * FROM stored) y`)
  t.same(stale.rows, [], 'every area has exactly the pieces of its current polygon')
  const big = await db.execute(sql`SELECT pcode FROM area_parts WHERE ST_NPoints(geom) > 64 AND pcode IN (SELECT pcode FROM areas WHERE ST_IsValid(geom))`)
  t.same(big.rows, [], 'no piece of a valid polygon has more than 64 vertices')
  const mismatched = await db.execute(sql`
    SELECT a.pcode FROM areas a LEFT JOIN (SELECT pcode, ST_Union(geom) AS u FROM area_parts GROUP BY pcode) p ON p.pcode = a.pcode
    WHERE p.u IS NULL OR ST_Area(ST_SymDifference(p.u, a.geom)) > 1e-12 * ST_Area(a.geom)`)
  t.same(mismatched.rows, [], 'the pieces of each area make up its polygon')
}

/** Row versions of the pieces: unchanged versions mean the pieces were not rewritten. */
const pieceVersions = async (db: Db, pcode?: string) =>
  (await db.execute<{ pcode: string; v: string }>(sql`
    SELECT pcode, xmin::text || ctid::text AS v FROM area_parts ${pcode ? sql`WHERE pcode = ${pcode}` : sql``} ORDER BY pcode, ctid`)).rows

const piecesPerArea = async (db: Db) =>
  Object.fromEntries((await db.execute<{ pcode: string; n: number }>(sql`SELECT pcode, count(*)::int AS n FROM area_parts GROUP BY pcode ORDER BY pcode`)).rows.map((r) => [r.pcode, r.n]))

t.test('area_parts follows imports, re-imports, changed polygons, renames, new codes and deletes', async (t) => {
  const { db } = await buildTestApp(t)
  await importAreas(db, wavyDivisions(), DIVISIONS)
  await importAreas(db, starDistrict(), DISTRICTS)
  const pieces = await piecesPerArea(db)
  t.ok(pieces.BD10 > 1 && pieces.BD20 > 1 && pieces.BD1001 > 1, `every fixture polygon is cut: ${JSON.stringify(pieces)}`)
  await checkPartsFollowAreas(t, db)

  const before = await pieceVersions(db)
  const again = await importAreas(db, wavyDivisions(), DIVISIONS)
  t.equal(again.unchanged, 2)
  t.same(await pieceVersions(db), before, 're-importing the same file rewrites no piece')

  await db.execute(sql`UPDATE areas SET name_en = 'Star renamed' WHERE pcode = 'BD1001'`)
  t.same(await pieceVersions(db), before, 'a rename rewrites no piece')

  // A new polygon for the district: its pieces are replaced, the divisions' are not touched.
  const divisionsBefore = (await pieceVersions(db)).filter((p) => p.pcode !== 'BD1001')
  const moved = await importAreas(db, collection(feature({ code: '1001', name: 'Star', parent: '10' }, rect(90.1, 23.4, 90.3, 23.6))), DISTRICTS)
  t.equal(moved.updated, 1)
  t.equal((await piecesPerArea(db)).BD1001, 1, 'the rectangle is one piece')
  t.same((await pieceVersions(db)).filter((p) => p.pcode !== 'BD1001'), divisionsBefore)
  await checkPartsFollowAreas(t, db)

  // Written by hand, not by the importer: the triggers keep the pieces all the same.
  await db.execute(sql`UPDATE areas SET geom = ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(90.2, 23.5), 4326), 0.1, 200)) WHERE pcode = 'BD1001'`)
  t.ok((await piecesPerArea(db)).BD1001 > 1, 'an 800-vertex circle is cut')
  await checkPartsFollowAreas(t, db)
  await db.execute(sql`UPDATE areas SET pcode = 'BD1009' WHERE pcode = 'BD1001'`)
  t.notOk('BD1001' in (await piecesPerArea(db)), 'no piece keeps the old code')
  await checkPartsFollowAreas(t, db)
  await db.execute(sql`UPDATE areas SET pcode = 'BD1002', geom = ST_Multi(ST_MakeEnvelope(90.1, 23.1, 90.2, 23.2, 4326)) WHERE pcode = 'BD1009'`)
  t.same(await piecesPerArea(db), { BD10: pieces.BD10, BD1002: 1, BD20: pieces.BD20 }, 'a new code and polygon at once')
  await checkPartsFollowAreas(t, db)
  await db.execute(sql`DELETE FROM areas WHERE pcode = 'BD1002'`)
  t.same(Object.keys(await piecesPerArea(db)), ['BD10', 'BD20'], 'a deleted area leaves no piece')

  // A dry run leaves the pieces as they were.
  const kept = await pieceVersions(db)
  await importAreas(db, collection(feature({ code: '10', name: 'West' }, rect(90, 23, 90.5, 24))), { ...DIVISIONS, dryRun: true })
  t.same(await pieceVersions(db), kept, 'a dry run changes no piece')
})

/**
 * Points where a lookup is most likely to go wrong: every vertex of every polygon (on the border two divisions
 * share, both must answer), every vertex of every piece (including those the subdivision computed on an edge),
 * the midpoint of every piece edge (on a cut between two pieces of one area: that area once), points 1e-9° off
 * every polygon vertex, and seeded random points over and around the fixture.
 */
async function createProbes(db: Db) {
  await db.execute(sql`
    CREATE TABLE probe AS
    SELECT DISTINCT kind, pt FROM (
      SELECT 'area vertex' AS kind, d.geom AS pt FROM areas a, ST_DumpPoints(a.geom) d
      UNION ALL SELECT 'piece vertex', d.geom FROM area_parts ap, ST_DumpPoints(ap.geom) d
      UNION ALL SELECT 'piece edge midpoint', ST_LineInterpolatePoint(s.geom, 0.5) FROM area_parts ap, ST_DumpSegments(ap.geom) s
      UNION ALL SELECT 'next to an area vertex', ST_Translate(d.geom, o.dx, o.dy)
        FROM areas a, ST_DumpPoints(a.geom) d, (VALUES (1e-9, 0), (-1e-9, 0), (0, 1e-9), (0, -1e-9)) o (dx, dy)
      UNION ALL SELECT 'random', (ST_Dump(ST_GeneratePoints(ST_MakeEnvelope(89.85, 22.9, 91.1, 24.1, 4326), 2000, 7))).geom
    ) x`)
}

/** The independent answer: ST_Covers on the whole polygons, shallowest level first. */
const directCovering = (point: SQL) =>
  sql`ARRAY(SELECT a.pcode FROM areas a WHERE ST_Covers(a.geom, ${point}) ORDER BY a.admin_level, a.pcode)`

async function probesWhereLookupDiffers(db: Db) {
  const { rows } = await db.execute<{ kind: string; lon: number; lat: number; ours: string[]; direct: string[] }>(sql`
    SELECT kind, ST_X(pt) AS lon, ST_Y(pt) AS lat, ours, direct FROM (
      SELECT kind, pt, ${pcodesCovering(sql`probe.pt`)} AS ours, ${directCovering(sql`probe.pt`)} AS direct FROM probe) x
    WHERE ours IS DISTINCT FROM direct`)
  return rows
}

t.test('lookups through the pieces answer exactly what ST_Covers on the whole polygons answers', async (t) => {
  const { app, db } = await buildTestApp(t)
  await importAreas(db, wavyDivisions(), DIVISIONS)
  await importAreas(db, starDistrict(), DISTRICTS)
  await createProbes(db)

  const { rows: stats } = await db.execute<{ kind: string; n: number; both_divisions: number; plain_differs: number; cut_twice: number }>(sql`
    SELECT kind, count(*)::int AS n,
           count(*) FILTER (WHERE ${directCovering(sql`pt`)} @> '{BD10,BD20}')::int AS both_divisions,
           -- what ST_Covers on the pieces alone would answer: the fixture must contain the points where it is wrong
           count(*) FILTER (WHERE ARRAY(SELECT a.pcode FROM areas a WHERE a.pcode IN (SELECT ap.pcode FROM area_parts ap WHERE ST_Covers(ap.geom, pt))
                                        ORDER BY a.admin_level, a.pcode) IS DISTINCT FROM ${directCovering(sql`pt`)})::int AS plain_differs,
           count(*) FILTER (WHERE (SELECT count(*) FROM area_parts ap WHERE ST_Covers(ap.geom, pt))
                                  > (SELECT count(DISTINCT ap.pcode) FROM area_parts ap WHERE ST_Covers(ap.geom, pt)))::int AS cut_twice
    FROM probe GROUP BY kind ORDER BY kind`)
  t.comment(JSON.stringify(stats))
  const total = (k: keyof (typeof stats)[number]) => stats.reduce((s, r) => s + Number(r[k]), 0)
  t.ok(total('both_divisions') >= 1201, 'every vertex of the shared border is in both divisions')
  t.ok(total('cut_twice') > 0, 'some points lie on two pieces of one area')
  t.ok(total('plain_differs') > 0, 'the pieces alone would answer some points wrongly (the rounded vertices)')

  t.same(await probesWhereLookupDiffers(db), [], 'pcodesCovering equals ST_Covers on areas.geom at every probe')

  // /v1/areas/locate, for the points the pieces alone would get wrong and a sample of every other kind.
  const { rows: sample } = await db.execute<{ lat: number; lon: number; direct: string[] }>(sql`
    SELECT lat, lon, direct FROM (
      SELECT ST_Y(pt) AS lat, ST_X(pt) AS lon, ${directCovering(sql`pt`)} AS direct,
             ARRAY(SELECT a.pcode FROM areas a WHERE a.pcode IN (SELECT ap.pcode FROM area_parts ap WHERE ST_Covers(ap.geom, pt))
                   ORDER BY a.admin_level, a.pcode) AS plain,
             row_number() OVER (PARTITION BY kind ORDER BY ST_X(pt), ST_Y(pt)) AS i
      FROM probe) x
    WHERE plain IS DISTINCT FROM direct OR i % 40 = 0`)
  t.ok(sample.length > 100)
  const wrong: unknown[] = []
  for (const p of sample) {
    const res = await locate(app, p.lat, p.lon)
    if (JSON.stringify(res) !== JSON.stringify(p.direct)) wrong.push({ ...p, locate: res })
  }
  t.same(wrong, [], `locate equals ST_Covers at ${sample.length} probes`)
})

/** pcodes /v1/areas/locate answers, shallowest level first like the stored area lists. */
async function locate(app: FastifyInstance, lat: number, lon: number): Promise<string[]> {
  const res = await app.inject({ url: `/v1/areas/locate?lat=${lat}&lon=${lon}` })
  if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`)
  return (res.json().items as { pcode: string; admin_level: number }[])
    .sort((a, b) => a.admin_level - b.admin_level || (a.pcode < b.pcode ? -1 : 1))
    .map((a) => a.pcode)
}

const providersWhoseAreasDiffer = async (db: Db) =>
  (await db.execute(sql`
    SELECT id, ST_X(location) AS lon, ST_Y(location) AS lat, area_pcodes, direct FROM (
      SELECT p.*, ${directCovering(sql`p.location`)} AS direct FROM providers p) x
    WHERE area_pcodes IS DISTINCT FROM direct`)).rows

t.test("providers' stored areas equal ST_Covers on the whole polygons, through bulk create, PATCH and re-import", async (t) => {
  const { app, db } = await buildTestApp(t)
  await importAreas(db, wavyDivisions(), DIVISIONS)
  await importAreas(db, starDistrict(), DISTRICTS)
  await createProbes(db)
  const { rows: probes } = await db.execute<{ lat: number; lon: number }>(sql`SELECT ST_Y(pt) AS lat, ST_X(pt) AS lon FROM probe ORDER BY kind, lon, lat`)
  t.ok(probes.length > 5000, `${probes.length} probes`)

  const ids: string[] = []
  for (let i = 0; i < probes.length; i += 5000) {
    const providers = probes.slice(i, i + 5000).map((location, k) => ({ name: `Probe ${i + k}`, kind: 'ngo', categories: ['health'], location }))
    const res = await app.inject({ method: 'POST', url: '/v1/providers/bulk', payload: { providers } })
    t.equal(res.statusCode, 201)
    ids.push(...res.json().items.map((p: { id: string }) => p.id))
  }
  const { rows: [{ n }] } = await db.execute<{ n: number }>(sql`
    SELECT count(*)::int AS n FROM providers WHERE ST_AsEWKB(location) IN (SELECT ST_AsEWKB(pt) FROM probe)`)
  t.equal(n, probes.length, 'every provider is stored at its probe point bit for bit')
  t.same(await providersWhoseAreasDiffer(db), [], 'bulk create: every provider has exactly the areas ST_Covers gives')

  // One at a time (POST) and moved onto another probe (PATCH): the single-row paths.
  const one = await app.inject({ method: 'POST', url: '/v1/providers', payload: { name: 'Single', kind: 'ngo', categories: ['legal'], location: probes[1] } })
  t.equal(one.statusCode, 201)
  for (const [k, id] of [ids[0], ids[Math.floor(ids.length / 2)], ids[ids.length - 1]].entries()) {
    const location = probes[(k * 997 + 13) % probes.length]
    const res = await app.inject({ method: 'PATCH', url: `/v1/providers/${id}`, payload: { location } })
    t.equal(res.statusCode, 200)
    const direct = (await db.execute<{ a: string[] }>(sql`SELECT ${directCovering(sql`ST_SetSRID(ST_MakePoint(${location.lon}, ${location.lat}), 4326)`)} AS a`)).rows[0].a
    t.same(res.json().areas.map((a: { pcode: string }) => a.pcode), direct, `PATCH onto ${location.lat}, ${location.lon}`)
  }
  t.same(await providersWhoseAreasDiffer(db), [])

  // A division's polygon changes: the import recomputes the stored areas of the providers in it, through the pieces.
  const shrunk = collection(
    feature({ code: '20', name: 'East' }, { type: 'Polygon', coordinates: [[[90.52, 23.2], [91, 23.2], [91, 23.8], [90.52, 23.8], [90.52, 23.2]]] }),
  )
  t.equal((await importAreas(db, shrunk, DIVISIONS)).updated, 1)
  await checkPartsFollowAreas(t, db)
  t.same(await providersWhoseAreasDiffer(db), [], 'after a re-import every provider still has exactly the areas ST_Covers gives')
})

t.test('an invalid polygon written by hand is kept whole, and lookups in it still equal ST_Covers', async (t) => {
  const { app, db } = await buildTestApp(t)
  // A bow-tie: the importer would repair it, plain SQL does not.
  await db.execute(sql`
    INSERT INTO areas (pcode, name_en, country, admin_level, level_name, geom)
    VALUES ('BD77', 'Bow tie', 'BGD', 1, 'division', ST_Multi(ST_GeomFromText('POLYGON((93 23, 94 24, 94 23, 93 24, 93 23))', 4326)))`)
  const { rows } = await db.execute<{ same: boolean }>(sql`
    SELECT ap.geom = a.geom AS same FROM area_parts ap JOIN areas a USING (pcode)`)
  t.same(rows, [{ same: true }], 'one piece: the polygon itself')
  for (const [lat, lon] of [[23.5, 93.5], [23.25, 93.5], [23.5, 93.25], [23, 93], [23.2, 93.9]]) {
    const direct = (await db.execute<{ a: string[] }>(sql`SELECT ${directCovering(sql`ST_SetSRID(ST_MakePoint(${lon}, ${lat}), 4326)`)} AS a`)).rows[0].a
    t.same(await locate(app, lat, lon), direct, `${lat}, ${lon}`)
  }
})

t.test('migration 0002 fills area_parts from the areas a database already has', async (t) => {
  const name = `setu_t_${process.pid}_m${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: serverUrl('postgres') })
  await admin.connect()
  await admin.query(`CREATE DATABASE "${name}"`)
  const db = createDb(serverUrl(name), { max: 1 })
  const dir = mkdtempSync(path.join(tmpdir(), 'setu-migrations-'))
  t.teardown(async () => {
    rmSync(dir, { recursive: true, force: true })
    await closePool(db)
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    await admin.end()
  })

  // The database as it was before 0002: migrations 0000 and 0001 only.
  const journal = JSON.parse(readFileSync(path.join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: { idx: number; tag: string }[] }
  const earlier = journal.entries.filter((e) => e.idx < 2)
  mkdirSync(path.join(dir, 'meta'))
  writeFileSync(path.join(dir, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries: earlier }))
  for (const e of earlier) copyFileSync(path.join(MIGRATIONS_DIR, `${e.tag}.sql`), path.join(dir, `${e.tag}.sql`))
  await migrate(drizzle(db.$client), { migrationsFolder: dir })
  const { rows: [{ exists }] } = await db.execute<{ exists: boolean }>(sql`SELECT to_regclass('area_parts') IS NOT NULL AS exists`)
  t.equal(exists, false, 'no area_parts before 0002')

  // Written as that schema stores areas (today's importer already needs area_parts).
  await db.execute(sql`
    INSERT INTO areas (pcode, name_en, country, admin_level, level_name, parent_pcode, geom) VALUES
      ('BD30', 'Circle', 'BGD', 1, 'division', NULL, ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(92, 23.5), 4326), 0.3, 200))),
      ('BD3001', 'Square', 'BGD', 2, 'district', 'BD30', ST_Multi(ST_MakeEnvelope(91.9, 23.4, 92.1, 23.6, 4326)))`)

  await migrateDatabase(db)
  const pieces = await piecesPerArea(db)
  t.ok(pieces.BD30 > 1 && pieces.BD3001 === 1, `the 800-vertex circle is cut, the square is not: ${JSON.stringify(pieces)}`)
  await checkPartsFollowAreas(t, db)
})
