import t from 'tap'
import { buildTestApp } from '../helpers/app.js'
import { insertArea, insertProvider } from '../helpers/factories.js'

t.test('insertProvider writes a row the API reads back, with its areas computed', async (t) => {
  const { app, db } = await buildTestApp(t)
  await insertArea(db, { pcode: 'BD30', name_en: 'Dhaka', country: 'BGD', admin_level: 1, bbox: [89.5, 23, 91, 24.5] })
  const id = await insertProvider(db, { lat: 23.8, lon: 90.4, categories: ['health', 'shelter'], eligible_genders: [] })
  const res = await app.inject({ url: `/v1/providers/${id}` })
  t.equal(res.statusCode, 200)
  t.same(res.json().categories, ['health', 'shelter'])
  t.same(res.json().areas.map((a: { pcode: string }) => a.pcode), ['BD30'])
})
