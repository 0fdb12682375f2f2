import t from 'tap'
import { buildTestApp } from '../helpers/app.js'

t.test('healthz reports the PostGIS version of the database', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ url: '/healthz' })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { status: 'ok', database: { postgis: /^3\./ } })
})

t.test('an unknown route is a 404 problem document', async (t) => {
  const { app } = await buildTestApp(t)
  const res = await app.inject({ url: '/v1/nowhere?x=1' })
  t.equal(res.statusCode, 404)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  t.same(res.json(), {
    type: 'urn:setu:problem:not-found',
    title: 'Not Found',
    status: 404,
    detail: 'No route matches GET /v1/nowhere',
    instance: '/v1/nowhere?x=1',
  })
})
