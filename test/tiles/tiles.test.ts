// The tile endpoints (issue 10 §1): tiles decoded with @mapbox/vector-tile and compared with the API's own answers
// for the same area, empty tiles, ETag and 304, invalid addresses, TileJSON and its URL template, and masking.
import { sql } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { buildTestApp, keyFor } from '../helpers/app.js'
import { insertArea, insertProvider } from '../helpers/factories.js'
import { decodeTile, tileBox, tileOf, tileUrl, unitDeg, type DecodedFeature, type Tile } from './mvt.js'

// A small map: Dhaka division with two districts, one of them cut into an upazila and two unions (the other has
// nothing below it), and a Cambodian province → district → commune (Cambodia has no level 4).
const AREAS = [
  { pcode: 'BD30', name_en: 'Dhaka', name_local: 'ঢাকা', country: 'BGD', admin_level: 1, level_name: 'division', bbox: [89.5, 23, 91, 24.5] },
  { pcode: 'BD3026', name_en: 'Dhaka', name_local: 'ঢাকা', country: 'BGD', admin_level: 2, level_name: 'district', parent_pcode: 'BD30', bbox: [90, 23.5, 90.8, 24.1] },
  { pcode: 'BD3029', name_en: 'Faridpur', country: 'BGD', admin_level: 2, level_name: 'district', parent_pcode: 'BD30', bbox: [89.5, 23, 90, 23.5] },
  { pcode: 'BD302601', name_en: 'Dhamrai', country: 'BGD', admin_level: 3, level_name: 'upazila', parent_pcode: 'BD3026', bbox: [90.2, 23.6, 90.6, 24.0] },
  { pcode: 'BD30260101', name_en: 'Amtali', name_local: 'আমতলী', country: 'BGD', admin_level: 4, level_name: 'union', parent_pcode: 'BD302601', bbox: [90.2, 23.6, 90.4, 24.0] },
  { pcode: 'BD30260102', name_en: 'Baisakanda', country: 'BGD', admin_level: 4, level_name: 'union', parent_pcode: 'BD302601', bbox: [90.4, 23.6, 90.6, 24.0] },
  { pcode: 'KH12', name_en: 'Phnom Penh', name_local: 'ភ្នំពេញ', country: 'KHM', admin_level: 1, level_name: 'province', bbox: [104.7, 11.4, 105.1, 11.8] },
  { pcode: 'KH1201', name_en: 'Chamkar Mon', country: 'KHM', admin_level: 2, level_name: 'district', parent_pcode: 'KH12', bbox: [104.8, 11.5, 105.0, 11.7] },
  { pcode: 'KH120101', name_en: 'Tonle Basak', country: 'KHM', admin_level: 3, level_name: 'commune', parent_pcode: 'KH1201', bbox: [104.85, 11.55, 104.95, 11.65] },
] as const
type AreaFixture = (typeof AREAS)[number]

const DHAKA = { lat: 23.81, lon: 90.41 }
const PHNOM_PENH = { lat: 11.6, lon: 104.9 }

/** The level a zoom shows, as issue 10 describes it; a leaf of a shallower level stands in where nothing is deeper. */
const levelFor = (z: number) => (z <= 5 ? 1 : z <= 7 ? 2 : z <= 9 ? 3 : 4)
const isLeaf = (a: AreaFixture) => !AREAS.some((c) => 'parent_pcode' in c && c.parent_pcode === a.pcode)
const shownAt = (a: AreaFixture, z: number) => a.admin_level === levelFor(z) || (a.admin_level < levelFor(z) && isLeaf(a))
const overlaps = (a: readonly number[], b: readonly number[]) => a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]

async function setUp(t: Test) {
  const built = await buildTestApp(t, {}, { auth: 'none' })
  for (const a of AREAS) await insertArea(built.db, { ...a, bbox: [...a.bbox] })
  return built
}

const tileOfLayer = (features: DecodedFeature[], layer: string) => features.filter((f) => f.layer === layer)

t.test('areas: the level the zoom shows, with their names and a label point inside each', async (t) => {
  const { app } = await setUp(t)
  const listed = (await app.inject({ url: '/v1/areas?limit=100' })).json().items as Array<Record<string, unknown> & { pcode: string; rep_point: { lat: number; lon: number } }>
  const byPcode = new Map(listed.map((a) => [a.pcode, a]))
  t.equal(byPcode.size, AREAS.length)

  for (const [place, z] of [[DHAKA, 4], [DHAKA, 6], [DHAKA, 7], [DHAKA, 8], [DHAKA, 10], [DHAKA, 12], [DHAKA, 15], [PHNOM_PENH, 6], [PHNOM_PENH, 11], [PHNOM_PENH, 14]] as const) {
    const tile = tileOf(place.lat, place.lon, z)
    const res = await app.inject({ url: tileUrl('areas', tile) })
    t.equal(res.statusCode, 200, `${tileUrl('areas', tile)} answers`)
    t.equal(res.headers['content-type'], 'application/vnd.mapbox-vector-tile')
    const features = decodeTile(res.rawPayload, tile)
    const box = tileBox(tile, true)
    const expected = AREAS.filter((a) => shownAt(a, z) && overlaps(a.bbox, box)).map((a) => a.pcode).sort()
    const outlines = tileOfLayer(features, 'areas')
    t.same(outlines.map((f) => f.properties.pcode).sort(), expected, `zoom ${z}: the areas of level ${levelFor(z)} (or leaves above it) in the tile`)
    t.ok(outlines.every((f) => f.type === 'Polygon'), 'outlines are polygons')
    for (const f of outlines) {
      const api = byPcode.get(String(f.properties.pcode))!
      for (const field of ['name_en', 'name_local', 'country', 'admin_level', 'level_name', 'parent_pcode'] as const) {
        // MVT has no null: a field without a value is left out of the feature.
        t.equal(f.properties[field] ?? null, api[field], `zoom ${z} ${api.pcode}: ${field} as /v1/areas says`)
      }
      // Every vertex lies on the area's box (a rectangle stays one) or on the tile's margin, where it is cut.
      const [w, s, e, n] = (AREAS.find((a) => a.pcode === api.pcode) as AreaFixture).bbox
      const tol = 2 * unitDeg(tile)
      const onEdge = (v: number, ...edges: number[]) => edges.some((edge) => Math.abs(v - edge) <= tol)
      const stray = f.points.filter(([lon, lat]) => !(onEdge(lon, w, e, box[0], box[2]) || onEdge(lat, s, n, box[1], box[3])))
      t.same(stray, [], `zoom ${z} ${api.pcode}: the outline follows the area's boundary`)
    }
    const labels = tileOfLayer(features, 'area_labels')
    const expectedLabels = expected.filter((p) => {
      const rp = byPcode.get(p)!.rep_point
      return rp.lon >= box[0] && rp.lon <= box[2] && rp.lat >= box[1] && rp.lat <= box[3]
    })
    t.same(labels.map((f) => f.properties.pcode).sort(), expectedLabels, `zoom ${z}: a label for each area whose representative point is in the tile`)
    for (const f of labels) {
      const rp = byPcode.get(String(f.properties.pcode))!.rep_point
      t.ok(Math.abs(f.points[0][0] - rp.lon) <= unitDeg(tile) && Math.abs(f.points[0][1] - rp.lat) <= unitDeg(tile), `zoom ${z} ${f.properties.pcode}: the label is at the representative point`)
      t.equal(f.properties.name_en, byPcode.get(String(f.properties.pcode))!.name_en)
    }
  }
})

t.test('areas are generalised at low zoom and exact at high zoom', async (t) => {
  const { app, db } = await setUp(t)
  // A jagged district: a rectangle whose southern edge has 400 teeth 100 m deep (far below a pixel at zoom 6).
  await db.execute(sql`
    INSERT INTO areas (pcode, name_en, country, admin_level, level_name, parent_pcode, geom)
    SELECT 'BD3033', 'Gazipur', 'BGD', 2, 'district', 'BD30',
           ST_Multi(ST_MakePolygon(ST_MakeLine(ARRAY[ST_MakePoint(90.8, 24.4), ST_MakePoint(90.0, 24.4)]
             || ARRAY(SELECT ST_MakePoint(90.0 + i * 0.002, 24.1 + (i % 2) * 0.001) FROM generate_series(0, 400) i)
             || ARRAY[ST_MakePoint(90.8, 24.4)])))`)
  const vertices = async (z: number, lat = 24.25) => {
    const tile = tileOf(lat, 90.4, z)
    const res = await app.inject({ url: tileUrl('areas', tile) })
    const f = decodeTile(res.rawPayload, tile).find((f) => f.layer === 'areas' && f.properties.pcode === 'BD3033')
    return f?.points.length ?? 0
  }
  const low = await vertices(6)
  t.ok(low > 0 && low < 50, `zoom 6: the teeth are simplified away (${low} vertices)`)
  t.ok((await vertices(7)) < 50, 'zoom 7 too')
  // At zoom 14 a tile is 2.3 km wide: every vertex of the teeth inside it is drawn.
  const box = tileBox(tileOf(24.1, 90.4, 14), true)
  const teeth = Array.from({ length: 401 }, (_, i) => 90 + i * 0.002).filter((lon) => lon > box[0] && lon < box[2]).length
  const high = await vertices(14, 24.1)
  t.ok(teeth > 5 && high >= teeth, `zoom 14: the ${teeth} vertices of the teeth in the tile are kept (${high} vertices)`)
})

t.test('an area moved, renamed or deleted is drawn so at once (the generalised bands follow every write)', async (t) => {
  const { app, db } = await setUp(t)
  const outline = async (z: number, at: { lat: number; lon: number }) => {
    const tile = tileOf(at.lat, at.lon, z)
    const res = await app.inject({ url: tileUrl('areas', tile) })
    if (res.statusCode === 204) return undefined
    const f = decodeTile(res.rawPayload, tile).find((f) => f.layer === 'areas' && f.properties.pcode === 'BD3029')
    return f && { name: f.properties.name_en, west: Math.min(...f.points.map((p) => p[0])), unit: unitDeg(tile) }
  }
  // Faridpur [89.5, 23, 90, 23.5] moves 0.2° west and is renamed.
  t.match(await outline(6, { lat: 23.25, lon: 89.75 }), { name: 'Faridpur' })
  await db.execute(sql`UPDATE areas SET name_en = 'Faridpur Sadar', geom = ST_Multi(ST_MakeEnvelope(89.3, 23, 90, 23.5, 4326)) WHERE pcode = 'BD3029'`)
  for (const z of [6, 8, 12, 15]) {
    const drawn = await outline(z, { lat: 23.25, lon: 89.301 })
    t.equal(drawn?.name, 'Faridpur Sadar', `zoom ${z}: the new name`)
    t.ok(drawn && Math.abs(drawn.west - 89.3) <= 2 * drawn.unit, `zoom ${z}: the new western edge (${drawn?.west})`)
  }
  await db.execute(sql`DELETE FROM areas WHERE pcode = 'BD3029'`)
  for (const z of [6, 12, 15]) t.equal(await outline(z, { lat: 23.25, lon: 89.35 }), undefined, `zoom ${z}: gone once deleted`)
})

t.test('providers: the same providers at the same points as GET /v1/providers?bbox=, for each caller', async (t) => {
  const { app, db } = await setUp(t)
  const editorOwn = await keyFor(db, 'editor', { organisation: 'org-shelters' })
  const viewer = await keyFor(db, 'viewer', { organisation: 'org-shelters' })
  // A deterministic scatter over Dhaka district: exact clinics, approximate and hidden shelters, some closed.
  let seed = 7
  const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646
  for (let i = 0; i < 120; i++) {
    const shelter = i % 3 === 0
    await insertProvider(db, {
      name: `Provider ${i}`,
      lat: 23.62 + random() * 0.36,
      lon: 90.21 + random() * 0.38,
      categories: shelter ? ['shelter', 'counselling'] : ['health'],
      kind: i % 5 === 0 ? 'government' : 'ngo',
      status: i % 11 === 0 ? 'closed' : 'active',
      location_visibility: shelter ? (i % 2 === 0 ? 'hidden' : 'approximate') : 'exact',
      organisation_id: shelter ? editorOwn.organisationId : undefined,
    })
  }
  const callers: Array<[string, Record<string, string>]> = [
    ['anonymous', {}],
    ['viewer', { authorization: viewer.authorization }],
    ['the owning editor', { authorization: editorOwn.authorization }],
  ]
  const admin = await keyFor(db, 'admin')
  callers.push(['admin', { authorization: admin.authorization }])

  for (const z of [11, 12, 13, 14, 15]) {
    const tile = tileOf(23.79, 90.41, z)
    const box = tileBox(tile, true)
    for (const [who, headers] of callers) {
      const res = await app.inject({ url: tileUrl('providers', tile), headers })
      const features = res.statusCode === 204 ? [] : decodeTile(res.rawPayload, tile)
      t.ok(features.every((f) => f.layer === 'providers' && f.type === 'Point'), 'one layer of points')
      const api = await app.inject({ url: `/v1/providers?bbox=${box.join(',')}&limit=100`, headers })
      t.equal(api.statusCode, 200)
      const items = (api.json().items as Array<{ id: string; name: string; categories: string[]; kind: string; status: string; location: { lat: number; lon: number } | null; location_masked: boolean; location_visibility: string }>)
        .filter((p) => p.location !== null)
      t.equal(api.json().next_cursor, null, 'one page holds them all')
      t.same(features.map((f) => f.properties.id).sort(), items.map((p) => p.id).sort(), `zoom ${z}, ${who}: the same providers`)
      const byId = new Map(items.map((p) => [p.id, p]))
      const off: string[] = []
      for (const f of features) {
        const p = byId.get(String(f.properties.id))
        if (!p) continue
        const [lon, lat] = f.points[0]
        if (Math.abs(lon - p.location!.lon) > unitDeg(tile) || Math.abs(lat - p.location!.lat) > unitDeg(tile)) off.push(`${p.name} at ${lat},${lon}, not ${p.location!.lat},${p.location!.lon}`)
        const fields = { name: f.properties.name, categories: f.properties.categories, kind: f.properties.kind, status: f.properties.status, location_masked: f.properties.location_masked, location_visibility: f.properties.location_visibility }
        t.same(fields, { name: p.name, categories: p.categories.join(','), kind: p.kind, status: p.status, location_masked: p.location_masked, location_visibility: p.location_visibility })
      }
      t.same(off, [], `zoom ${z}, ${who}: each at the point the API shows, within a tile unit`)
      if (z === 11) t.ok(features.length > 0, `zoom ${z}, ${who}: the tile is not empty`)
    }
  }
})

t.test('masking: an approximate shelter only at its area point, a hidden one nowhere, an admin sees both exactly', async (t) => {
  const { app, db } = await setUp(t)
  const admin = await keyFor(db, 'admin')
  const viewer = await keyFor(db, 'viewer')
  // Both in union BD30260101 [90.2, 23.6, 90.4, 24.0], whose representative point is its centre (90.3, 23.8).
  const approx = { lat: 23.7231, lon: 90.2413 }
  const hidden = { lat: 23.9102, lon: 90.3611 }
  const approxId = await insertProvider(db, { name: 'Approximate shelter', ...approx, categories: ['shelter'], location_visibility: 'approximate' })
  const hiddenId = await insertProvider(db, { name: 'Hidden shelter', ...hidden, categories: ['shelter'], location_visibility: 'hidden' })
  const rep = { lat: 23.8, lon: 90.3 }

  const findIn = async (at: { lat: number; lon: number }, z: number, headers: Record<string, string>) => {
    const tile = tileOf(at.lat, at.lon, z)
    const res = await app.inject({ url: tileUrl('providers', tile), headers })
    const features = res.statusCode === 204 ? [] : decodeTile(res.rawPayload, tile)
    return { tile, features }
  }
  const near = (p: [number, number], q: { lat: number; lon: number }, tile: Tile) => Math.abs(p[0] - q.lon) <= unitDeg(tile) && Math.abs(p[1] - q.lat) <= unitDeg(tile)

  for (const z of [11, 12, 14, 16, 22]) {
    for (const [who, headers] of [['anonymous', {}], ['viewer', { authorization: viewer.authorization }]] as const) {
      const atReal = await findIn(approx, z, headers)
      const a = atReal.features.find((f) => f.properties.id === approxId)
      if (a) t.ok(near(a.points[0], rep, atReal.tile), `zoom ${z}, ${who}: in the tile of its real point only because its area point is there too`)
      const atRep = await findIn(rep, z, headers)
      const r = atRep.features.find((f) => f.properties.id === approxId)
      t.ok(r && near(r.points[0], rep, atRep.tile), `zoom ${z}, ${who}: the approximate shelter is at its area's point`)
      t.equal(r?.properties.location_masked, true)
      for (const at of [hidden, rep]) {
        const { features } = await findIn(at, z, headers)
        t.notOk(features.some((f) => f.properties.id === hiddenId), `zoom ${z}, ${who}: the hidden shelter is in no tile`)
      }
    }
    const adminReal = await findIn(approx, z, { authorization: admin.authorization })
    const ar = adminReal.features.find((f) => f.properties.id === approxId)
    t.ok(ar && near(ar.points[0], approx, adminReal.tile), `zoom ${z}, admin: the approximate shelter at its real point`)
    t.equal(ar?.properties.location_masked, false)
    const adminHidden = await findIn(hidden, z, { authorization: admin.authorization })
    const ah = adminHidden.features.find((f) => f.properties.id === hiddenId)
    t.ok(ah && near(ah.points[0], hidden, adminHidden.tile), `zoom ${z}, admin: the hidden shelter at its real point`)
  }
  // At zoom 12 the real point's tile and the area point's differ: anonymous callers find nothing at the real point.
  const z12 = await findIn(approx, 12, {})
  t.notSame(tileOf(approx.lat, approx.lon, 12), tileOf(rep.lat, rep.lon, 12))
  t.notOk(z12.features.some((f) => f.properties.id === approxId), 'zoom 12, anonymous: not in the tile of its real point')
})

t.test('empty tiles, providers below their minzoom, ETag and 304, Cache-Control', async (t) => {
  const { app, db } = await setUp(t)
  await insertProvider(db, { name: 'Clinic', lat: 23.81, lon: 90.41, location_visibility: 'exact' })
  const ocean = tileOf(0, -30, 10)
  for (const layer of ['areas', 'providers']) {
    const res = await app.inject({ url: tileUrl(layer, ocean) })
    t.equal(res.statusCode, 204, `${layer}: an empty tile is a 204`)
    t.equal(res.body, '')
  }
  // The corners of the tile pyramid: the whole world at zoom 0, and the first and last tiles at zoom 22, whose margins
  // reach past the antimeridian and the poles of Web Mercator.
  t.equal((await app.inject({ url: '/v1/tiles/areas/0/0/0.mvt' })).statusCode, 200, 'the world tile holds the areas')
  for (const corner of ['22/0/0', '22/4194303/4194303', '22/0/4194303', '1/1/1']) {
    for (const layer of ['areas', 'providers']) {
      t.equal((await app.inject({ url: `/v1/tiles/${layer}/${corner}.mvt` })).statusCode, 204, `${layer} ${corner}: empty`)
    }
  }
  const low = await app.inject({ url: tileUrl('providers', tileOf(23.81, 90.41, 10)) })
  t.equal(low.statusCode, 204, 'providers below zoom 11 answer 204')

  for (const [layer, z, maxAge] of [['areas', 8, 3600], ['providers', 13, 60]] as const) {
    const url = tileUrl(layer, tileOf(23.81, 90.41, z))
    const first = await app.inject({ url })
    t.equal(first.statusCode, 200)
    const etag = first.headers.etag as string
    t.match(etag, /^"[A-Za-z0-9_-]+"$/, `${layer}: a strong ETag`)
    t.equal(first.headers['cache-control'], `public, max-age=${maxAge}`)
    t.match(first.headers.vary, /Authorization/i, 'Vary: Authorization')
    const again = await app.inject({ url })
    t.equal(again.headers.etag, etag, `${layer}: the same tile, the same ETag`)
    const cached = await app.inject({ url, headers: { 'if-none-match': etag } })
    t.equal(cached.statusCode, 304, `${layer}: If-None-Match with the ETag is a 304`)
    t.equal(cached.body, '')
    t.equal(cached.headers.etag, etag)
    t.equal((await app.inject({ url, headers: { 'if-none-match': `"other", W/${etag}` } })).statusCode, 304, 'a list and a weak tag match too')
    t.equal((await app.inject({ url, headers: { 'if-none-match': '"other"' } })).statusCode, 200, 'another tag does not')
  }
  // A change to the data is a new tile and a new ETag.
  const url = tileUrl('providers', tileOf(23.81, 90.41, 13))
  const before = (await app.inject({ url })).headers.etag
  await insertProvider(db, { name: 'Second clinic', lat: 23.811, lon: 90.411, location_visibility: 'exact' })
  t.not((await app.inject({ url })).headers.etag, before, 'a new provider changes the ETag')
  const admin = await keyFor(db, 'admin')
  t.equal((await app.inject({ url, headers: { authorization: admin.authorization } })).headers['cache-control'], 'private, max-age=60', 'a provider tile for a key is private')
})

t.test('invalid tile addresses are 400 or 404 problems', async (t) => {
  const { app } = await setUp(t)
  const cases: Array<[string, number, string | undefined]> = [
    ['/v1/tiles/areas/23/0/0.mvt', 400, 'z'],
    ['/v1/tiles/areas/99999999/0/0.mvt', 400, 'z'],
    ['/v1/tiles/areas/3/8/0.mvt', 400, 'x'],
    ['/v1/tiles/areas/3/0/8.mvt', 400, 'y'],
    ['/v1/tiles/areas/0/0/1.mvt', 400, 'y'],
    ['/v1/tiles/areas/3/-1/0.mvt', 400, 'x'],
    ['/v1/tiles/areas/3/1e1/0.mvt', 400, 'x'],
    ['/v1/tiles/areas/3/01/0.mvt', 400, 'x'],
    ['/v1/tiles/areas/a/0/0.mvt', 400, 'z'],
    ['/v1/tiles/roads/3/0/0.mvt', 400, 'layer'],
    ['/v1/tiles/roads.json', 400, 'layer'],
    ['/v1/tiles/areas/3/0/0.pbf', 404, undefined],
    ['/v1/tiles/areas/3/0/0', 404, undefined],
    ['/v1/tiles/areas/3/0.mvt', 404, undefined],
  ]
  for (const [url, status, path] of cases) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, status, `${url}: ${status}`)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    if (path) t.match(res.json(), { status, errors: [{ path }] }, `${url}: about ${path}`)
  }
})

t.test('TileJSON: a valid 3.0.0 document whose URL template serves the tiles', async (t) => {
  const { app } = await setUp(t)
  for (const layer of ['areas', 'providers'] as const) {
    const res = await app.inject({ url: `/v1/tiles/${layer}.json`, headers: { host: 'maps.example.org:8080' } })
    t.equal(res.statusCode, 200)
    const doc = res.json()
    t.equal(doc.tilejson, '3.0.0')
    t.same(doc.tiles, [`http://maps.example.org:8080/v1/tiles/${layer}/{z}/{x}/{y}.mvt`])
    t.equal(doc.minzoom, layer === 'areas' ? 0 : 11)
    t.equal(doc.maxzoom, 16)
    // Bounds of the areas loaded: the two level-1 boxes.
    t.same(doc.bounds, [89.5, 11.4, 105.1, 24.5])
    t.same(doc.vector_layers.map((l: { id: string }) => l.id), layer === 'areas' ? ['areas', 'area_labels'] : ['providers'])
    const fields = Object.keys(doc.vector_layers[0].fields).sort()
    t.same(fields, layer === 'areas'
      ? ['admin_level', 'country', 'level_name', 'name_en', 'name_local', 'parent_pcode', 'pcode']
      : ['categories', 'id', 'kind', 'location_masked', 'location_visibility', 'name', 'status'])
    // The template, filled in for Dhaka at a zoom the layer has, answers a tile with those layers and fields.
    const tile = tileOf(23.81, 90.41, 12)
    const url = new URL(doc.tiles[0].replace('{z}', String(tile.z)).replace('{x}', String(tile.x)).replace('{y}', String(tile.y)))
    const tileRes = await app.inject({ url: url.pathname })
    if (layer === 'areas') {
      t.equal(tileRes.statusCode, 200, 'the template answers a tile')
      const features = decodeTile(tileRes.rawPayload, tile)
      for (const f of features) t.ok(Object.keys(f.properties).every((k) => k in doc.vector_layers.find((l: { id: string }) => l.id === f.layer).fields), 'only documented fields')
    } else {
      t.equal(tileRes.statusCode, 204, 'the template answers (no provider there)')
    }
  }
})

t.test('TileJSON honours a trusted proxy', async (t) => {
  const { app } = await buildTestApp(t, { TRUST_PROXY: true }, { auth: 'none' })
  const res = await app.inject({ url: '/v1/tiles/areas.json', headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'setu.example.org' } })
  t.same(res.json().tiles, ['https://setu.example.org/v1/tiles/areas/{z}/{x}/{y}.mvt'])
  t.same(res.json().bounds, [-180, -85.051129, 180, 85.051129], 'no areas: the whole Web Mercator world')
  const { app: untrusting } = await buildTestApp(t, {}, { auth: 'none' })
  const plain = await untrusting.inject({ url: '/v1/tiles/areas.json', headers: { host: 'setu.local', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' } })
  t.same(plain.json().tiles, ['http://setu.local/v1/tiles/areas/{z}/{x}/{y}.mvt'], 'without TRUST_PROXY the forwarded headers are ignored')
})
