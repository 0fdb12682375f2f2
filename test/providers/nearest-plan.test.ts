// The nearest query is a prepared statement per shape: it has to settle on one generic plan (planning it afresh
// on every request was half of its PostgreSQL time) and that plan must still be the index-ordered KNN scan.
import { PgDialect } from 'drizzle-orm/pg-core'
import t from 'tap'
import type { Viewer } from '../../src/lib/location-visibility.js'
import { DEMO_ORGANISATION_ID } from '../../src/modules/access/keys.js'
import { nearestProvidersSql } from '../../src/modules/providers/repo.js'
import { NearestQuery, type ProviderInput } from '../../src/modules/providers/schemas.js'
import { providersService } from '../../src/modules/providers/service.js'
import { buildTestApp } from '../helpers/app.js'
import { seededRandom } from './helpers.js'

type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] }
const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)]

t.test('the prepared nearest statement runs on a generic plan over the KNN index', async (t) => {
  const { db } = await buildTestApp(t)
  const random = seededRandom(5)
  const cats = ['health', 'legal', 'counselling', 'shelter', 'livelihood'] as const
  const inputs: ProviderInput[] = Array.from({ length: 3000 }, (_, i) => ({
    name: `P${i}`,
    kind: 'ngo',
    categories: [cats[i % 5]],
    location: { lat: 20.6 + random() * 6, lon: 88 + random() * 4.6 },
    status: i % 10 === 0 ? 'suspended' : 'active',
  }))
  await providersService(db).createMany(inputs)
  await db.$client.query('ANALYZE providers')

  const client = await db.$client.connect()
  t.teardown(() => client.release())
  // Anonymous callers (the hot path) and editors, whose organisation is one more bound parameter.
  const viewers: Viewer[] = [{ exact: 'none' }, { exact: 'own', organisationId: DEMO_ORGANISATION_ID }]
  const queries = [{ category: 'shelter', limit: '10' }, { limit: '5' }, { category: 'legal', limit: '100', format: 'geojson' }]
  for (const [query, viewer] of viewers.flatMap((v) => queries.map((q) => [q, v] as const))) {
    const q = NearestQuery.parse({ lat: '23.8', lon: '90.4', ...query })
    const form = q.format === 'geojson' ? 'geojson' : 'json'
    const { sql: text, params } = new PgDialect().sqlToQuery(nearestProvidersSql(q, form, viewer))
    const index = q.category ? `providers_nearest_${q.category}` : 'providers_location_geog_gist'

    // What the hot path does (queryPrepared): one named statement, executed again and again on a connection.
    const name = `nearest_plan_${form}_${q.category ?? 'any'}_${viewer.exact}`
    for (let i = 0; i < 8; i++) {
      const { params: values } = new PgDialect().sqlToQuery(nearestProvidersSql({ ...q, lat: 23 + i / 10 }, form, viewer))
      await client.query({ name, text, values })
    }
    const { rows: stats } = await client.query(
      'SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1',
      [text],
    )
    t.equal(stats.length, 1, `${JSON.stringify(query)}: prepared once on the connection`)
    t.ok(stats[0].generic_plans > 0, `${JSON.stringify(query)}: a generic plan is used (${stats[0].custom_plans} custom)`)

    await client.query(`PREPARE nearest_plan AS ${text}`)
    await client.query('SET plan_cache_mode = force_generic_plan')
    const args = params.map((p) => (typeof p === 'number' ? String(p) : `'${String(p)}'`)).join(', ')
    const { rows } = await client.query(`EXPLAIN (FORMAT JSON) EXECUTE nearest_plan(${args})`)
    await client.query('RESET plan_cache_mode')
    await client.query('DEALLOCATE nearest_plan')
    const scans = nodes(rows[0]['QUERY PLAN'][0].Plan).filter((n) => String(n['Node Type']).includes('Index Scan'))
    const knn = scans.filter((s) => s['Index Name'] === index)
    t.equal(knn.length, 1, `${JSON.stringify(query)}: the generic plan reads ${index}`)
    t.match(knn[0]?.['Order By'], /<->/, `${JSON.stringify(query)}: ordered by <-> in the index`)
  }
})
