// Referral-pathway latency on a national-scale synthetic referral network: a scratch database with P providers
// clustered around 64 district centres in Bangladesh's bounding box, ~L referral links out of each (mostly
// inside its district), MOUs for some receivers of MOU-based links; then GET /v1/pathways through app.inject
// (the production app, buildApp, no network) for varied start providers and categories, at max_hops 3 and 5.
// Usage: npm run bench:pathways -- [--providers 20000] [--links-per-provider 3] [--requests 50] [--limit 20]
//                                  [--explain-full] [--check]
import { parseArgs } from 'node:util'
import { sql } from 'drizzle-orm'
import { buildApp } from '../src/app.js'
import { DEMO_ORGANISATION_ID, keysRepo } from '../src/modules/access/keys.js'
import { chainsSql } from '../src/modules/pathways/repo.js'
import { linkHealth, type HealthSettings } from '../src/modules/referral-links/health.js'
import { scratchDatabase } from './scratch.js'
import { referenceChainsSql } from '../test/pathways/reference.js'

const { values } = parseArgs({
  options: {
    providers: { type: 'string', default: '20000' },
    'links-per-provider': { type: 'string', default: '3' },
    requests: { type: 'string', default: '50' },
    limit: { type: 'string', default: '20' },
    'explain-full': { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
  },
})
const P = Number(values.providers)
const L = Number(values['links-per-provider'])
const REQUESTS = Number(values.requests)
const LIMIT = Number(values.limit)
const DISTRICTS = 64
const CATEGORIES = ['health', 'legal', 'counselling', 'shelter', 'livelihood']
const HEALTH: HealthSettings = { atRiskDays: 60, staleMonths: 12 }
if (P < DISTRICTS * 4 || L < 1 || REQUESTS < 1 || LIMIT < 1 || LIMIT > 20) {
  throw new Error(`need --providers ≥ ${DISTRICTS * 4}, --links-per-provider ≥ 1, --requests ≥ 1, 1 ≤ --limit ≤ 20`)
}

const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1)
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]

const database = await scratchDatabase()
const db = database.db
try {
  const loadStart = performance.now()
  // Deterministic (setseed; every random() below is drawn in one session, in an order fixed by g, never by
  // a uuid) so runs compare. Only the uuids differ between runs, which can only reorder chains of exactly
  // equal distance.
  await db.transaction(async (tx) => {
    await tx.execute(sql`SELECT setseed(0.42)`)
    // bench_nodes: provider g (0-based) lies in district g % 64 and is number g / 64 of its district, so the
    // k-th provider of district d is g = k * 64 + d. The scratch database is dropped at the end.
    await tx.execute(sql`
      CREATE TABLE bench_nodes AS
      WITH centres AS (
        SELECT c, 88.2 + random() * 4.2 AS lon, 20.8 + random() * 5.6 AS lat FROM generate_series(0, ${DISTRICTS - 1}::int) c
      )
      SELECT g, gen_random_uuid() AS id, g % ${DISTRICTS}::int AS district, g / ${DISTRICTS}::int AS rank,
             c.lon + (random() - 0.5) * 0.5 AS lon, c.lat + (random() - 0.5) * 0.5 AS lat,
             random() AS r_kind, random() AS r_primary, random() AS r_cat, random() AS r_status, random() AS r_verified, random() AS r_funded
      FROM generate_series(0, ${P - 1}::int) g JOIN centres c ON c.c = g % ${DISTRICTS}::int
      ORDER BY g`)
    await tx.execute(sql`ALTER TABLE bench_nodes ADD PRIMARY KEY (g)`)
    // A realistic mix: 30 % focal points, 25 % NGOs, 15 % government, then smaller groups; 1-3 categories,
    // shelter rare (4 % of providers: few shelter homes per district), the others common (health the most);
    // 97 % active; verified in the last five months by some method (1 % never verified); a third with a
    // funding end date, mostly well ahead, 4 % within the at-risk window, 1 % already past.
    await tx.execute(sql`
      INSERT INTO providers (id, name, names, search_text, kind, categories, location, status,
                             funded_until, verified_on, verification_method, verified_by)
      SELECT n.id, 'Bench provider ' || n.g, '{}'::jsonb, 'bench provider ' || n.g,
             CASE WHEN n.r_kind < 0.30 THEN 'focal_point' WHEN n.r_kind < 0.55 THEN 'ngo'
                  WHEN n.r_kind < 0.70 THEN 'government' WHEN n.r_kind < 0.80 THEN 'community_group'
                  WHEN n.r_kind < 0.87 THEN 'survivor_group' WHEN n.r_kind < 0.94 THEN 'private' ELSE 'international' END,
             CASE WHEN n.r_primary < 0.04 THEN ARRAY['shelter'] ELSE ARRAY[c.common[1 + n.k]] END ||
               CASE WHEN n.r_cat < 0.5 THEN ARRAY[c.common[1 + (n.k + 1) % 4]] ELSE '{}' END ||
               CASE WHEN n.r_cat < 0.2 THEN ARRAY[c.common[1 + (n.k + 2) % 4]] ELSE '{}' END,
             ST_SetSRID(ST_MakePoint(n.lon, n.lat), 4326),
             CASE WHEN n.r_status < 0.97 THEN 'active' WHEN n.r_status < 0.99 THEN 'suspended' ELSE 'closed' END,
             CASE WHEN n.r_funded < 0.28 THEN current_date + 90 + (n.r_funded * 2500)::int
                  WHEN n.r_funded < 0.32 THEN current_date + (n.r_funded * 1000)::int % 60
                  WHEN n.r_funded < 0.33 THEN current_date - 1 - (n.r_funded * 1000)::int % 200 END,
             CASE WHEN n.r_verified >= 0.01 THEN current_date - (n.r_verified * 150)::int END,
             CASE WHEN n.r_verified >= 0.01 THEN (ARRAY['field_visit', 'phone_call', 'document', 'self_reported'])[1 + (n.r_verified * 1000)::int % 4] END,
             CASE WHEN n.r_verified >= 0.01 THEN 'bench' END
      FROM (SELECT *, CASE WHEN r_primary < 0.36 THEN 0 WHEN r_primary < 0.64 THEN 1 WHEN r_primary < 0.86 THEN 2 ELSE 3 END AS k
            FROM bench_nodes) n
      CROSS JOIN (SELECT ARRAY['health', 'counselling', 'legal', 'livelihood'] AS common) c
      ORDER BY n.g`)
    // Links: L distinct random targets per provider (L + 3 candidates, duplicates dropped, first L kept),
    // 96 % in the provider's own district and 4 % in another one (what ties districts into one national
    // network). Categories are a random non-empty subset of what the receiver offers. Basis mostly
    // informal or SOP, 12 % MOU, a few court orders; 95 % active.
    await tx.execute(sql`
      WITH sizes AS (SELECT district, count(*)::int AS n FROM bench_nodes GROUP BY district),
      cand AS (
        SELECT s.g AS from_g, s.district, s.rank, j, random() AS r_cross, random() AS r_district, random() AS r_rank
        FROM bench_nodes s CROSS JOIN generate_series(1, ${L + 3}::int) j
        ORDER BY s.g, j
      ),
      targets AS (
        SELECT c.from_g, c.j,
               CASE WHEN c.r_cross >= 0.04 THEN ((c.rank + 1 + floor(c.r_rank * (sz.n - 1))::int) % sz.n) * ${DISTRICTS}::int + c.district
                    ELSE floor(c.r_rank * tz.n)::int * ${DISTRICTS}::int + td.d END AS to_g
        FROM cand c
        JOIN sizes sz ON sz.district = c.district
        CROSS JOIN LATERAL (SELECT (c.district + 1 + floor(c.r_district * ${DISTRICTS - 1}::int)::int) % ${DISTRICTS}::int AS d) td
        JOIN sizes tz ON tz.district = td.d
      ),
      firsts AS (
        SELECT from_g, to_g, row_number() OVER (PARTITION BY from_g ORDER BY min(j)) AS k
        FROM targets GROUP BY from_g, to_g
      ),
      chosen AS (
        SELECT f.from_g, f.to_g, random() AS r_basis, random() AS r_status, random() AS r_date,
               ARRAY[random(), random(), random()] AS r_categories
        FROM firsts f WHERE f.k <= ${L}::int ORDER BY f.from_g, f.to_g
      )
      INSERT INTO referral_links (from_provider_id, to_provider_id, categories, basis, status, established_on, last_used_on)
      SELECT fn.id, tn.id,
             coalesce((SELECT array_agg(x.cat ORDER BY x.cat) FROM unnest(tp.categories) WITH ORDINALITY AS x (cat, i)
                       WHERE c.r_categories[x.i] < 0.7),
                      tp.categories[1:1]),
             CASE WHEN c.r_basis < 0.50 THEN 'informal' WHEN c.r_basis < 0.85 THEN 'sop' WHEN c.r_basis < 0.97 THEN 'mou' ELSE 'court_order' END,
             CASE WHEN c.r_status < 0.95 THEN 'active' ELSE 'inactive' END,
             current_date - 60 - (c.r_date * 1500)::int,
             CASE WHEN c.r_date < 0.8 THEN current_date - (c.r_date * 50)::int END
      FROM chosen c
      JOIN bench_nodes fn ON fn.g = c.from_g
      JOIN bench_nodes tn ON tn.g = c.to_g
      JOIN providers tp ON tp.id = tn.id
      ORDER BY c.from_g, c.to_g`)
    // MOUs for receivers of MOU-based links: 80 % hold a signed MOU covering what they offer (most running
    // a year or more, some open-ended, 10 % expiring within the at-risk window, 5 % already past their expiry,
    // which reads as expired); the other 20 % are still negotiating, so their MOU links are broken.
    await tx.execute(sql`
      WITH receivers AS (
        SELECT DISTINCT n.g, p.id, p.categories
        FROM referral_links l JOIN providers p ON p.id = l.to_provider_id JOIN bench_nodes n ON n.id = p.id
        WHERE l.basis = 'mou' ORDER BY n.g
      ), drawn AS (SELECT r.*, random() AS r_signed, random() AS r_expiry FROM receivers r ORDER BY r.g),
      inserted AS (
        INSERT INTO mous (provider_id, counterparty, counterparty_level, categories, status, signed_on, expires_on)
        SELECT d.id, 'District Legal Aid Committee', 'district', d.categories,
               CASE WHEN d.r_signed < 0.8 THEN 'signed' ELSE 'negotiating' END,
               CASE WHEN d.r_signed < 0.8 THEN current_date - 400 END,
               CASE WHEN d.r_signed >= 0.8 THEN NULL
                    WHEN d.r_expiry < 0.70 THEN current_date + 200 + (d.r_expiry * 1000)::int
                    WHEN d.r_expiry < 0.85 THEN NULL
                    WHEN d.r_expiry < 0.95 THEN current_date + (d.r_expiry * 1000)::int % 60
                    ELSE current_date - 1 - (d.r_expiry * 1000)::int % 100 END
        FROM drawn d
        RETURNING id, status
      )
      INSERT INTO mou_status_changes (mou_id, status, status_changed) SELECT id, status, true FROM inserted`)
  })
  await db.execute(sql`ANALYZE`)
  const { rows: counts } = await db.execute<{ providers: number; links: number; active_links: number; mous: number }>(sql`
    SELECT (SELECT count(*)::int FROM providers) AS providers, (SELECT count(*)::int FROM referral_links) AS links,
           (SELECT count(*)::int FROM referral_links WHERE status = 'active') AS active_links, (SELECT count(*)::int FROM mous) AS mous`)
  const { rows: healthMix } = await db.execute<{ health: string; n: number }>(sql`
    SELECT h.health, count(*)::int AS n FROM referral_links l CROSS JOIN LATERAL ${linkHealth('l', HEALTH)} AS h
    WHERE l.status = 'active' GROUP BY h.health ORDER BY h.health`)
  const c = counts[0]
  console.log(
    `loaded ${c.providers.toLocaleString('en')} providers, ${c.links.toLocaleString('en')} links ` +
      `(${c.active_links.toLocaleString('en')} active: ${healthMix.map((h) => `${h.n.toLocaleString('en')} ${h.health}`).join(', ')}), ` +
      `${c.mous.toLocaleString('en')} MOUs in ${seconds(loadStart)} s`,
  )

  // Start providers: active ones spread over every district (about 60 % focal points, the usual first contact),
  // categories in rotation, 1 in 5 requests by lat/lon next to the start (the nearest focal point is then the
  // start). The same list serves max_hops 3 and 5.
  const { rows: starts } = await db.execute<{ id: string; lat: number; lon: number; kind: string }>(sql`
    SELECT p.id, ST_Y(p.location) AS lat, ST_X(p.location) AS lon, p.kind
    FROM bench_nodes n JOIN providers p ON p.id = n.id
    WHERE p.status = 'active' AND (p.kind = 'focal_point' OR n.g % 10 < 3)
    ORDER BY (n.g * 7919) % ${P}::int LIMIT ${REQUESTS}::int`)
  const requests = starts.map((s, i) => {
    const category = CATEGORIES[i % CATEGORIES.length]
    const from = i % 5 === 4 ? `lat=${(s.lat + 0.001).toFixed(5)}&lon=${(s.lon + 0.001).toFixed(5)}` : `from=${s.id}`
    return { from, category, start: s.id }
  })

  // Writes and pathways need an API key: an admin's, as `npm run keys -- create --role admin` makes.
  const authorization = `Bearer ${(await keysRepo(db).createKey({ organisationId: DEMO_ORGANISATION_ID, role: 'admin', label: 'bench' })).key}`
  const app = await buildApp(
    { LOG_LEVEL: 'silent', BODY_LIMIT_BYTES: 10 * 1024 * 1024, RATE_LIMIT_PER_MINUTE: 0, LINK_AT_RISK_DAYS: HEALTH.atRiskDays, VERIFICATION_STALE_MONTHS: HEALTH.staleMonths },
    { db },
  )
  try {
    const get = async (url: string) => {
      const res = await app.inject({ url, headers: { authorization } })
      if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
      return res.json() as { start: { id: string }; items: { provider_ids: string[]; link_ids: string[]; distance_m: number }[] }
    }
    // Warm up: the pool's connections, PostGIS, the caches.
    for (const r of requests.slice(0, 3)) await get(`/v1/pathways?${r.from}&category=${r.category}&max_hops=3&limit=${LIMIT}`)

    for (const maxHops of [3, 5]) {
      const times: number[] = []
      const sqlTimes: number[] = []
      const found: number[] = []
      let mismatches = 0
      for (const r of requests) {
        const url = `/v1/pathways?${r.from}&category=${r.category}&max_hops=${maxHops}&limit=${LIMIT}`
        const t0 = performance.now()
        const answer = await get(url)
        times.push(performance.now() - t0)
        found.push(answer.items.length)
        // The chains query alone, as the service runs it (the rest of a request: start lookup, the links and
        // providers of the chains, JSON).
        const s0 = performance.now()
        await db.execute(chainsSql(answer.start.id, r.category, maxHops, LIMIT, HEALTH))
        sqlTimes.push(performance.now() - s0)
        if (values.check) {
          // The answer must be exactly the one the original whole-table query gives.
          const { rows } = await db.execute<{ path: string[]; link_ids: string[] }>(
            referenceChainsSql(answer.start.id, r.category, maxHops, LIMIT, HEALTH),
          )
          const got = answer.items.map((c) => c.link_ids.join(','))
          const want = rows.map((c) => c.link_ids.join(','))
          if (JSON.stringify(got) !== JSON.stringify(want)) {
            mismatches++
            process.exitCode = 1
            console.log(`MISMATCH ${url}\n  got  ${got.join(' | ')}\n  want ${want.join(' | ')}`)
          }
        }
      }
      const spread = (ms: number[]) => {
        const sorted = [...ms].sort((a, b) => a - b)
        return `p50 ${quantile(sorted, 0.5).toFixed(1)} ms, p90 ${quantile(sorted, 0.9).toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms`
      }
      const mean = found.reduce((a, b) => a + b, 0) / found.length
      console.log(
        `max_hops ${maxHops}, limit ${LIMIT}, ${requests.length} requests: ${spread(times)}, ` +
          `total ${(times.reduce((a, b) => a + b, 0) / 1000).toFixed(1)} s (chains query alone: ${spread(sqlTimes)}); ` +
          `chains returned: mean ${mean.toFixed(1)}, ` +
          `${found.filter((n) => n === LIMIT).length} at the limit, ${found.filter((n) => n === 0).length} with none` +
          (values.check ? `; ${mismatches} differ from the reference query` : ''),
      )
    }

    // One max_hops=5 chains query under EXPLAIN (ANALYZE, BUFFERS): the first from= request's start and category.
    const r = requests[0]
    const { rows: plan } = await db.execute<{ 'QUERY PLAN': string }>(
      sql`EXPLAIN (ANALYZE, BUFFERS) ${chainsSql(r.start, r.category, 5, LIMIT, HEALTH)}`,
    )
    const lines = plan.map((p) => p['QUERY PLAN'])
    console.log(`EXPLAIN (ANALYZE, BUFFERS) chains, max_hops 5, limit ${LIMIT}, ${r.category} from ${r.start}:`)
    const summary = values['explain-full']
      ? lines
      : [lines[0], lines.find((l) => l.trim().startsWith('Buffers:')), ...lines.filter((l) => /^(Planning|Execution) Time/.test(l.trim()))]
    for (const line of summary) if (line) console.log(`  ${line.trim()}`)
  } finally {
    await app.close()
  }
} finally {
  await database.drop()
}
