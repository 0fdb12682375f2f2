import { sql } from 'drizzle-orm'
import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { insertArea, insertLink, insertVerifiedProvider } from '../helpers/factories.js'
import { problemJson } from './util.js'

const post = (payload: object) => ({ method: 'POST' as const, url: '/v1/referral-links', payload })

t.test('a link is created, read back and listed for its provider', async (t) => {
  const { app, db } = await buildTestApp(t)
  const from = await insertVerifiedProvider(db, { name: 'CTC Jhikargacha', kind: 'focal_point', categories: ['counselling'], lat: 23.1, lon: 89.1 })
  const to = await insertVerifiedProvider(db, { name: 'Legal Aid Jessore', categories: ['legal', 'health'], lat: 23.17, lon: 89.21 })
  const res = await app.inject(post({ from_provider_id: from, to_provider_id: to, categories: ['legal'], basis: 'sop', established_on: '2024-03-01' }))
  t.equal(res.statusCode, 201)
  const link = res.json()
  t.equal(res.headers.location, `/v1/referral-links/${link.id}`)
  t.equal(res.headers.etag, '"1"')
  t.match(link, {
    from_provider_id: from,
    to_provider_id: to,
    from_provider: { id: from, name: 'CTC Jhikargacha', kind: 'focal_point', location: { lat: 23.1, lon: 89.1 } },
    to_provider: { id: to, name: 'Legal Aid Jessore', location: { lat: 23.17, lon: 89.21 } },
    categories: ['legal'],
    basis: 'sop',
    status: 'active',
    established_on: '2024-03-01',
    last_used_on: null,
    health: 'ok',
    health_reasons: [],
    version: 1,
  })
  const got = await app.inject({ url: `/v1/referral-links/${link.id}` })
  t.same(got.json(), link)

  const mine = await app.inject({ url: `/v1/providers/${to}/referral-links` })
  t.equal(mine.statusCode, 200)
  t.same(mine.json().items.map((l: { id: string; direction: string }) => [l.id, l.direction]), [[link.id, 'incoming']])
  const theirs = await app.inject({ url: `/v1/providers/${from}/referral-links?direction=incoming` })
  t.same(theirs.json(), { items: [], next_cursor: null })
  const out = await app.inject({ url: `/v1/providers/${from}/referral-links?direction=outgoing` })
  t.same(out.json().items.map((l: { direction: string }) => l.direction), ['outgoing'])
})

t.test('refusals: self-link, unknown provider, duplicate pair, closed end, category not offered', async (t) => {
  const { app, db } = await buildTestApp(t)
  const a = await insertVerifiedProvider(db, { name: 'Alpha', categories: ['health', 'legal'], lat: 23, lon: 90 })
  const b = await insertVerifiedProvider(db, { name: 'Beta', categories: ['health'], lat: 23.1, lon: 90.1 })
  const closed = await insertVerifiedProvider(db, { name: 'Gone', categories: ['health'], lat: 23.2, lon: 90.2, status: 'closed' })
  const missing = '00000000-0000-4000-8000-000000000000'

  const self = await app.inject(post({ from_provider_id: a, to_provider_id: a, categories: ['health'], basis: 'informal' }))
  t.equal(self.statusCode, 422)
  t.match(self.headers['content-type'], problemJson)
  t.same(self.json(), {
    type: 'urn:setu:problem:unprocessable',
    title: 'Unprocessable Content',
    status: 422,
    detail: 'a referral link cannot point from a provider to itself',
    instance: '/v1/referral-links',
    request_id: self.headers['x-request-id'],
    errors: [{ path: 'to_provider_id', message: 'must differ from from_provider_id' }],
  })

  const unknown = await app.inject(post({ from_provider_id: missing, to_provider_id: b, categories: ['health'], basis: 'informal' }))
  t.equal(unknown.statusCode, 422)
  t.same(unknown.json().errors, [{ path: 'from_provider_id', message: `provider ${missing} does not exist` }])

  const first = await app.inject(post({ from_provider_id: a, to_provider_id: b, categories: ['health'], basis: 'informal' }))
  t.equal(first.statusCode, 201)
  const dup = await app.inject(post({ from_provider_id: a, to_provider_id: b, categories: ['health'], basis: 'mou' }))
  t.equal(dup.statusCode, 409)
  t.same(dup.json(), {
    type: 'urn:setu:problem:conflict',
    title: 'Conflict',
    status: 409,
    detail: `a referral link from Alpha to Beta already exists: ${first.json().id}`,
    instance: '/v1/referral-links',
    request_id: dup.headers['x-request-id'],
    existing_link_id: first.json().id,
  })
  const reverse = await app.inject(post({ from_provider_id: b, to_provider_id: a, categories: ['health'], basis: 'informal' }))
  t.equal(reverse.statusCode, 201, 'the opposite direction is another pair')

  const toClosed = await app.inject(post({ from_provider_id: a, to_provider_id: closed, categories: ['health'], basis: 'informal' }))
  t.equal(toClosed.statusCode, 409)
  t.match(toClosed.json(), { detail: 'the receiving provider Gone is closed; links to or from a closed provider are refused', provider_id: closed })
  const fromClosed = await app.inject(post({ from_provider_id: closed, to_provider_id: a, categories: ['health'], basis: 'informal' }))
  t.equal(fromClosed.statusCode, 409)
  t.match(fromClosed.json(), { detail: /^the referring provider Gone is closed/ })

  const c = await insertVerifiedProvider(db, { name: 'Gamma', categories: ['health'], lat: 23.3, lon: 90.3 })
  const wrong = await app.inject(post({ from_provider_id: a, to_provider_id: c, categories: ['health', 'legal', 'shelter'], basis: 'sop' }))
  t.equal(wrong.statusCode, 422)
  t.same(wrong.json(), {
    type: 'urn:setu:problem:unprocessable',
    title: 'Unprocessable Content',
    status: 422,
    detail: 'the receiving provider Gamma does not offer legal, shelter',
    instance: '/v1/referral-links',
    request_id: wrong.headers['x-request-id'],
    errors: [
      { path: 'categories', message: 'legal is not offered by the receiving provider' },
      { path: 'categories', message: 'shelter is not offered by the receiving provider' },
    ],
  })

  const badBasis = await app.inject(post({ from_provider_id: a, to_provider_id: c, categories: ['health'], basis: 'handshake' }))
  t.equal(badBasis.statusCode, 400)
  t.match(badBasis.json(), { errors: [{ path: 'basis' }] })
  const extra = await app.inject(post({ from_provider_id: a, to_provider_id: c, categories: ['health'], basis: 'sop', survivor: 'x' }))
  t.equal(extra.statusCode, 400)
  t.match(extra.json(), { errors: [{ path: 'survivor', message: 'unknown field "survivor"' }] })
  const empty = await app.inject(post({ from_provider_id: a, to_provider_id: c, categories: [], basis: 'sop' }))
  t.equal(empty.statusCode, 400)

  const { rows } = await db.execute<{ n: number }>(sql`SELECT count(*) AS n FROM referral_links`)
  t.equal(rows[0].n, 2, 'no refused request wrote anything')
})

t.test('PATCH bumps the version, honours If-Match and keeps the refusals', async (t) => {
  const { app, db } = await buildTestApp(t)
  const a = await insertVerifiedProvider(db, { categories: ['health'], lat: 23, lon: 90 })
  const b = await insertVerifiedProvider(db, { name: 'Beta', categories: ['health', 'legal'], lat: 23.1, lon: 90.1 })
  const id = (await app.inject(post({ from_provider_id: a, to_provider_id: b, categories: ['health'], basis: 'informal' }))).json().id
  const url = `/v1/referral-links/${id}`

  const ok = await app.inject({ method: 'PATCH', url, headers: { 'if-match': '"1"' }, payload: { categories: ['health', 'legal'], last_used_on: '2026-10-02' } })
  t.equal(ok.statusCode, 200)
  t.match(ok.json(), { version: 2, categories: ['health', 'legal'], last_used_on: '2026-10-02' })
  t.equal(ok.headers.etag, '"2"')

  const stale = await app.inject({ method: 'PATCH', url, headers: { 'if-match': '"1"' }, payload: { notes: 'x' } })
  t.equal(stale.statusCode, 412)
  t.match(stale.json(), { status: 412, current_version: 2 })

  const noIfMatch = await app.inject({ method: 'PATCH', url, payload: { status: 'inactive' } })
  t.match(noIfMatch.json(), { status: 'inactive', version: 3 })

  const notOffered = await app.inject({ method: 'PATCH', url, payload: { categories: ['shelter'] } })
  t.equal(notOffered.statusCode, 422)
  t.equal(notOffered.json().detail, 'the receiving provider Beta does not offer shelter')

  await db.execute(sql`UPDATE providers SET status = 'closed' WHERE id = ${b}`)
  const revive = await app.inject({ method: 'PATCH', url, payload: { status: 'active' } })
  t.equal(revive.statusCode, 409)
  const note = await app.inject({ method: 'PATCH', url, payload: { notes: 'NGO closed in May' } })
  t.equal(note.statusCode, 200, 'an inactive link to a closed provider can still be annotated')

  const empty = await app.inject({ method: 'PATCH', url, payload: {} })
  t.equal(empty.statusCode, 400)
  const ends = await app.inject({ method: 'PATCH', url, payload: { to_provider_id: a } })
  t.equal(ends.statusCode, 400, 'the ends of a link never change')
  const missing = await app.inject({ method: 'PATCH', url: '/v1/referral-links/00000000-0000-4000-8000-000000000000', payload: { notes: 'x' } })
  t.equal(missing.statusCode, 404)
  const get404 = await app.inject({ url: '/v1/referral-links/00000000-0000-4000-8000-000000000000' })
  t.equal(get404.statusCode, 404)
  t.equal(get404.json().detail, 'Referral link 00000000-0000-4000-8000-000000000000 does not exist')
  const providerMissing = await app.inject({ url: '/v1/providers/00000000-0000-4000-8000-000000000000/referral-links' })
  t.equal(providerMissing.statusCode, 404)
})

t.test('list filters and keyset pages', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertArea(db, { pcode: 'BD40', name_en: 'Khulna', country: 'BGD', admin_level: 1, bbox: [89, 22, 90, 24] })
  const inside = await insertVerifiedProvider(db, { categories: ['health', 'legal'], lat: 23, lon: 89.5 })
  const x = await insertVerifiedProvider(db, { categories: ['health', 'legal'], lat: 25, lon: 91 })
  const y = await insertVerifiedProvider(db, { categories: ['health'], lat: 25.1, lon: 91.1 })
  const stale = await insertVerifiedProvider(db, { categories: ['health'], lat: 25.2, lon: 91.2, verified_on: null })
  const l1 = await insertLink(db, { from: x, to: inside, categories: ['legal'], basis: 'sop' })
  const l2 = await insertLink(db, { from: inside, to: y, categories: ['health'], basis: 'informal' })
  const l3 = await insertLink(db, { from: x, to: y, categories: ['health'], basis: 'court_order', status: 'inactive' })
  const l4 = await insertLink(db, { from: y, to: stale, categories: ['health'], basis: 'informal' })
  const ids = async (query: string) => {
    const res = await app.inject({ url: `/v1/referral-links?${query}` })
    t.equal(res.statusCode, 200, query)
    return res.json().items.map((l: { id: string }) => l.id)
  }
  t.same(await ids(''), [l1, l2, l3, l4])
  t.same(await ids(`provider=${inside}`), [l1, l2])
  t.same(await ids(`from=${x}`), [l1, l3])
  t.same(await ids(`to=${y}`), [l2, l3])
  t.same(await ids('category=legal'), [l1])
  t.same(await ids('basis=court_order'), [l3])
  t.same(await ids('status=inactive'), [l3])
  t.same(await ids('area=BD40'), [l1, l2])
  t.same(await ids('health=broken'), [l4])
  t.same(await ids('health=ok&status=active'), [l1, l2])

  // health filters in SQL before the page is cut: a page of 1 still finds the one broken link at the end.
  const first = await app.inject({ url: '/v1/referral-links?health=ok&limit=2' })
  t.same(first.json().items.map((l: { id: string }) => l.id), [l1, l2])
  const second = await app.inject({ url: `/v1/referral-links?health=ok&limit=2&cursor=${first.json().next_cursor}` })
  t.same(second.json(), { items: [second.json().items[0]], next_cursor: null })
  t.equal(second.json().items[0].id, l3)
  const brokenOnly = await app.inject({ url: '/v1/referral-links?health=broken&limit=1' })
  t.same(brokenOnly.json().items.map((l: { id: string }) => l.id), [l4])
  t.equal(brokenOnly.json().next_cursor, null)

  const bad = await app.inject({ url: '/v1/referral-links?health=fine' })
  t.equal(bad.statusCode, 400)
  const badCursor = await app.inject({ url: '/v1/referral-links?cursor=nonsense' })
  t.equal(badCursor.statusCode, 400)
})

t.test('lists answer GeoJSON LineStrings from the referring to the receiving provider', async (t) => {
  const { app, db } = await buildTestApp(t)
  const a = await insertVerifiedProvider(db, { categories: ['health'], lat: 11.5564, lon: 104.9282 })
  const b = await insertVerifiedProvider(db, { categories: ['health'], lat: 13.3633, lon: 103.8564 })
  const c = await insertVerifiedProvider(db, { categories: ['health'], lat: -0.5, lon: -179.5 })
  await insertLink(db, { from: a, to: b })
  await insertLink(db, { from: b, to: c })

  for (const req of [
    { url: '/v1/referral-links', headers: { accept: 'application/geo+json' } },
    { url: '/v1/referral-links?format=geojson', headers: {} },
    { url: `/v1/providers/${b}/referral-links`, headers: { accept: 'application/geo+json' } },
  ]) {
    const res = await app.inject(req)
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^application\/geo\+json/)
    const fc = res.json()
    t.equal(fc.type, 'FeatureCollection')
    t.equal(fc.numberReturned, 2)
    t.equal(fc.next_cursor, null)
    for (const f of fc.features) {
      t.equal(f.type, 'Feature')
      t.equal(f.geometry.type, 'LineString')
      t.equal(f.geometry.coordinates.length, 2, 'two positions')
      for (const [lon, lat] of f.geometry.coordinates) {
        t.ok(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90, 'positions in range')
      }
      const p = f.properties
      t.equal(f.id, p.id)
      t.same(f.geometry.coordinates, [
        [p.from_provider.location.lon, p.from_provider.location.lat],
        [p.to_provider.location.lon, p.to_provider.location.lat],
      ], 'lon, lat order from the referring end')
      t.ok(['ok', 'at_risk', 'broken'].includes(p.health))
    }
  }
  const first = (await app.inject({ url: '/v1/referral-links?format=geojson' })).json().features[0]
  t.same(first.geometry.coordinates, [[104.9282, 11.5564], [103.8564, 13.3633]])

  const json = await app.inject({ url: '/v1/referral-links?format=json', headers: { accept: 'application/geo+json' } })
  t.match(json.headers['content-type'], /^application\/json/)
  t.equal(json.json().items.length, 2)
})
