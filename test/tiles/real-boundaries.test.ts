// Area tiles over the real Bangladesh boundaries of ../shared/data (8 / 64 / 544 / 5,160 areas): every generalised
// band is a valid polygon no larger than the boundary it simplifies, and the tiles over Dhaka show the level their
// zoom asks for, named as stored, with a label at each area's representative point. Slow (the import), hence its own file.
import { sql } from 'drizzle-orm'
import t from 'tap'
import { importAreas, type AreaImportOptions } from '../../src/modules/areas/import.js'
import { readShared, skipWithoutBoundaries } from '../areas/fixtures.js'
import { buildTestApp } from '../helpers/app.js'
import { decodeTile, tileBox, tileOf, tileUrl, unitDeg } from './mvt.js'

const BBS = 'BBS via OCHA COD-AB (bangladesh R package)'
const LOADS: { file: string; options: AreaImportOptions }[] = [
  { file: 'BGD_ADM1.geojson', options: { country: 'BGD', level: 1, codeField: 'ADM1_PCODE', nameField: 'Division', codePrefix: 'BD', source: BBS } },
  { file: 'BGD_ADM2.geojson', options: { country: 'BGD', level: 2, codeField: 'ADM2_PCODE', nameField: 'District', parentField: 'ADM1_PCODE', codePrefix: 'BD', source: BBS } },
  { file: 'BGD_ADM3.geojson', options: { country: 'BGD', level: 3, codeField: 'ADM3_PCODE', nameField: 'Upazila', parentField: 'ADM2_PCODE', codePrefix: 'BD', source: BBS } },
  { file: 'BGD_ADM4.geojson', options: { country: 'BGD', level: 4, codeField: 'ADM4_PCODE', nameField: 'Union', parentField: 'ADM3_PCODE', codePrefix: 'BD', source: BBS } },
]
const skip = skipWithoutBoundaries(...LOADS.map((l) => l.file))

t.test('area tiles over the real Bangladesh boundaries', { skip }, async (t) => {
  const { app, db } = await buildTestApp(t, {}, { auth: 'none' })
  for (const load of LOADS) await importAreas(db, readShared(load.file), load.options)

  const { rows: bands } = await db.execute<{ zoom: number; n: number; invalid: number; empty: number; larger: number }>(sql`
    SELECT g.zoom, count(*)::int AS n, count(*) FILTER (WHERE NOT ST_IsValid(g.geom))::int AS invalid,
           count(*) FILTER (WHERE ST_IsEmpty(g.geom))::int AS empty,
           count(*) FILTER (WHERE ST_NPoints(g.geom) > ST_NPoints(a.geom))::int AS larger
    FROM area_generalised g JOIN areas a ON a.pcode = g.pcode GROUP BY g.zoom ORDER BY g.zoom`)
  t.same(bands.map((b) => b.zoom), [0, 2, 4, 6, 8, 10, 12], 'seven bands')
  for (const b of bands) {
    t.equal(b.n, 5776, `band ${b.zoom}: every area`)
    t.same([b.invalid, b.empty, b.larger], [0, 0, 0], `band ${b.zoom}: valid, not empty, no more vertices than the boundary`)
  }

  const { rows: areas } = await db.execute<{ pcode: string; name_en: string; admin_level: number; lat: number; lon: number }>(
    sql`SELECT pcode, name_en, admin_level, ST_Y(rep_point) AS lat, ST_X(rep_point) AS lon FROM areas`,
  )
  const byPcode = new Map(areas.map((a) => [a.pcode, a]))
  for (const [z, level] of [[5, 1], [6, 2], [8, 3], [10, 4], [13, 4], [15, 4]] as const) {
    const tile = tileOf(23.81, 90.41, z)
    const res = await app.inject({ url: tileUrl('areas', tile) })
    t.equal(res.statusCode, 200)
    const features = decodeTile(res.rawPayload, tile)
    const outlines = features.filter((f) => f.layer === 'areas')
    const [w, s, e, n] = tileBox(tile, true)
    // Independently: the areas of the level whose boundary meets the tile and its margin.
    const { rows: meeting } = await db.execute<{ pcode: string }>(sql`
      SELECT pcode FROM areas WHERE admin_level = ${level} AND ST_Intersects(geom, ST_MakeEnvelope(${w}, ${s}, ${e}, ${n}, 4326))`)
    const expected = new Set(meeting.map((r) => r.pcode))
    const drawn = outlines.map((f) => String(f.properties.pcode))
    t.same(drawn.filter((p) => !expected.has(p)), [], `zoom ${z}: every outline is of an area of level ${level} that meets the tile`)
    // An area that only grazes the tile may be simplified out of it (by up to a screen pixel: 8 of the 4096 units);
    // one that reaches 16 units inside may not, nor one whose label point is in the tile.
    const inner = tileBox(tile)
    const u = 16 * unitDeg(tile)
    const { rows: reaching } = await db.execute<{ pcode: string }>(sql`
      SELECT pcode FROM areas WHERE admin_level = ${level}
        AND ST_Intersects(geom, ST_MakeEnvelope(${inner[0] + u}, ${inner[1] + u}, ${inner[2] - u}, ${inner[3] - u}, 4326))`)
    t.same(reaching.map((r) => r.pcode).filter((p) => !drawn.includes(p)), [], `zoom ${z}: the ${reaching.length} areas reaching into the tile are drawn (${drawn.length} outlines)`)
    const labelled = [...expected].filter((p) => {
      const a = byPcode.get(p)!
      return a.lon >= inner[0] && a.lon <= inner[2] && a.lat >= inner[1] && a.lat <= inner[3]
    })
    t.same(labelled.filter((p) => !drawn.includes(p)), [], `zoom ${z}: every area whose representative point is in the tile is drawn`)
    for (const f of outlines) t.equal(f.properties.name_en, byPcode.get(String(f.properties.pcode))!.name_en)
    // Labels: every area of the level whose representative point is in the tile or its margin (a label near the edge
    // is drawn by both tiles, so that neither cuts it off).
    const { rows: withLabel } = await db.execute<{ pcode: string }>(sql`
      SELECT pcode FROM areas WHERE admin_level = ${level} AND ST_Intersects(rep_point, ST_MakeEnvelope(${w}, ${s}, ${e}, ${n}, 4326))`)
    const labels = features.filter((f) => f.layer === 'area_labels')
    t.same(labels.map((f) => String(f.properties.pcode)).sort(), withLabel.map((r) => r.pcode).sort(), `zoom ${z}: a label for each area whose point is in the tile or its margin`)
    const off = labels.filter((f) => {
      const a = byPcode.get(String(f.properties.pcode))!
      return Math.abs(f.points[0][0] - a.lon) > unitDeg(tile) || Math.abs(f.points[0][1] - a.lat) > unitDeg(tile)
    })
    t.same(off.map((f) => f.properties.pcode), [], `zoom ${z}: each label at its area's representative point`)
  }
})
