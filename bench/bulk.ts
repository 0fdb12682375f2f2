// Bulk writes against real boundaries: the Bangladesh boundaries of ../shared/data (8 / 64 / 544 / 5,160 areas)
// imported into a scratch database with the project's importer, then N synthetic providers inside Bangladesh
// through POST /v1/providers/bulk (the production app, buildApp, over app.inject), B rows a request.
// Usage: npm run bench:bulk -- [--n 100000] [--batch 5000] [--areas real|demo] [--check]
import { readdirSync, readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { sql } from 'drizzle-orm'
import { buildApp } from '../src/app.js'
import { DEMO_ORGANISATION_ID, keysRepo } from '../src/modules/access/keys.js'
import { importAreas } from '../src/modules/areas/import.js'
import { BOUNDARIES, importBgdBoundaries, missingBoundaries } from './bgd-boundaries.js'
import { scratchDatabase } from './scratch.js'

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '5000' },
    areas: { type: 'string', default: 'real' },
    check: { type: 'boolean', default: false },
  },
})
const N = Number(values.n)
const BATCH = Number(values.batch)
const AREAS = values.areas
if (!(N >= 1) || !(BATCH >= 1 && BATCH <= 5000) || (AREAS !== 'real' && AREAS !== 'demo')) {
  throw new Error('need --n ≥ 1, 1 ≤ --batch ≤ 5000, --areas real or demo')
}

if (AREAS === 'real') {
  const missing = missingBoundaries()
  if (missing.length) {
    console.error(
      `bench:bulk needs the shared boundary data set in ${BOUNDARIES} (missing: ${missing.join(', ')}).\n` +
        'Put it there (see its README), or run with --areas demo to measure against the demo districts only.',
    )
    process.exit(2)
  }
}

const CATEGORIES = ['health', 'legal', 'counselling', 'shelter', 'livelihood']
const KINDS = ['government', 'ngo', 'community_group', 'survivor_group', 'private', 'international', 'focal_point']
const seconds = (since: number) => (performance.now() - since) / 1000
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ')
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]

/**
 * CPU seconds used so far by the PostgreSQL server `pid` belongs to: the postmaster, its live children and the
 * children it has reaped. The machine is shared, so wall time depends on the neighbours and CPU time does not.
 * null when the server is not a process of this machine (DATABASE_URL elsewhere).
 */
function serverCpuSeconds(backendPid: number): number | null {
  // /proc/<pid>/stat after the ")" closing the command name: state, ppid, …, utime (12th), stime, cutime, cstime.
  const fields = (pid: number | string) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  try {
    const postmaster = Number(fields(backendPid)[1])
    const own = fields(postmaster)
    let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14])
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      try {
        const f = fields(entry)
        if (Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12])
      } catch {
        // the process ended while we looked
      }
    }
    return ticks / 100 // USER_HZ
  } catch {
    return null
  }
}

const database = await scratchDatabase()
const db = database.db

try {
  console.log(`load average at start: ${load()}`)
  const importStart = performance.now()
  if (AREAS === 'real') {
    await importBgdBoundaries(db, (file, report, s) => console.log(`imported ${file}: ${report.inserted} areas in ${s.toFixed(1)} s`))
  } else {
    // The demo districts as the demo loader imports them (seeds/areas), Bangladesh only: the points are there.
    for (const [file, level] of [['BGD_1.geojson', 1], ['BGD_2.geojson', 2]] as const) {
      const collection = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'seeds', 'areas', file), 'utf8'))
      const report = await importAreas(db, collection, {
        country: 'BGD', level, codeField: 'pcode', nameField: 'name_en', nameLocalField: 'name_local',
        parentField: level > 1 ? 'parent_pcode' : undefined, source: 'setu-demo (generated approximation, seeds/areas)',
      })
      console.log(`imported seeds/areas/${file}: ${report.inserted} areas`)
    }
  }
  const { rows: levels } = await db.execute<{ admin_level: number; n: number }>(
    sql`SELECT admin_level, count(*)::int AS n FROM areas WHERE country = 'BGD' GROUP BY 1 ORDER BY 1`,
  )
  console.log(`BGD areas by level: ${levels.map((l) => `${l.admin_level}: ${l.n}`).join(', ')}; import ${seconds(importStart).toFixed(1)} s`)

  // N points inside the deepest loaded BGD level, about as many in each of its areas (seeded, so every run
  // writes the same points), in random order so that consecutive rows are not neighbours. ST_GeneratePoints
  // sometimes returns fewer than asked for a small polygon, hence one spare per area.
  const t0 = performance.now()
  const { rows: points } = await db.transaction(async (tx) => {
    await tx.execute(sql`SELECT setseed(0.42)`) // random() below, in the same session
    return tx.execute<{ lat: number; lon: number }>(sql`
      WITH deepest AS (
        SELECT geom, ceil(${N}::float8 / count(*) OVER ())::int + 1 AS k
        FROM areas WHERE country = 'BGD' AND admin_level = (SELECT max(admin_level) FROM areas WHERE country = 'BGD')
      ), pts AS (
        SELECT (ST_Dump(ST_GeneratePoints(geom, k, 42))).geom AS pt FROM deepest
      )
      SELECT round(ST_Y(pt)::numeric, 6)::float8 AS lat, round(ST_X(pt)::numeric, 6)::float8 AS lon
      FROM pts ORDER BY random() LIMIT ${N}::int`)
  })
  if (points.length !== N) throw new Error(`generated ${points.length} points, expected ${N}`)
  console.log(`generated ${N.toLocaleString('en')} points in ${seconds(t0).toFixed(1)} s`)

  // A typical directory row: a name in two scripts, 1-3 categories with a service each, a phone, languages.
  const providers = points.map((p, g) => {
    const categories = CATEGORIES.slice(g % 5).concat(CATEGORIES.slice(0, g % 5)).slice(0, 1 + (g % 3))
    return {
      name: `Bench provider ${g}`,
      names: { bn: `বেঞ্চ সেবা ${g}` },
      kind: KINDS[g % KINDS.length],
      categories,
      services: categories.map((c) => ({ category: c, name: `${c} service` })),
      location: p,
      phones: [`+88017${String(g).padStart(8, '0')}`],
      languages: ['bn', 'en'],
      status: g % 10 === 9 ? 'suspended' : 'active',
      external_ids: [{ scheme: 'bench', id: String(g) }],
    }
  })

  // Writes and pathways need an API key: an admin's, as `npm run keys -- create --role admin` makes.
  const authorization = `Bearer ${(await keysRepo(db).createKey({ organisationId: DEMO_ORGANISATION_ID, role: 'admin', label: 'bench' })).key}`
  const app = await buildApp(
    { LOG_LEVEL: 'silent', BODY_LIMIT_BYTES: 50 * 1024 * 1024, RATE_LIMIT_PER_MINUTE: 0, LINK_AT_RISK_DAYS: 60, VERIFICATION_STALE_MONTHS: 12 },
    { db },
  )
  try {
    const { rows: [{ pid }] } = await db.execute<{ pid: number }>(sql`SELECT pg_backend_pid() AS pid`)
    const times: number[] = []
    const dbCpu0 = serverCpuSeconds(pid)
    const nodeCpu0 = process.cpuUsage()
    const started = performance.now()
    for (let i = 0; i < N; i += BATCH) {
      const t = performance.now()
      const res = await app.inject({ method: 'POST', url: '/v1/providers/bulk', headers: { authorization }, payload: { providers: providers.slice(i, i + BATCH) } })
      if (res.statusCode !== 201) throw new Error(`batch at ${i}: ${res.statusCode} ${res.body.slice(0, 2000)}`)
      times.push(performance.now() - t)
    }
    const total = seconds(started)
    const nodeCpu = process.cpuUsage(nodeCpu0)
    const dbCpu1 = serverCpuSeconds(pid)
    const sorted = [...times].sort((a, b) => a - b)
    const { rows: outside } = await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM providers WHERE area_pcodes = '{}'`)
    console.log(
      `POST /v1/providers/bulk, ${N.toLocaleString('en')} providers in ${times.length} requests of ${BATCH}: ` +
        `${total.toFixed(1)} s, ${Math.round(N / total).toLocaleString('en')} rows/s; per request p50 ${(quantile(sorted, 0.5) / 1000).toFixed(2)} s, ` +
        `max ${(sorted[sorted.length - 1] / 1000).toFixed(2)} s; ${outside[0].n} providers outside every area`,
    )
    // Requests run one after another, so on an idle machine the wall time would be about the sum of the two.
    console.log(
      `CPU: this process (app and load generator) ${((nodeCpu.user + nodeCpu.system) / 1e6).toFixed(1)} s, ` +
        `PostgreSQL ${dbCpu0 !== null && dbCpu1 !== null ? `${(dbCpu1 - dbCpu0).toFixed(1)} s` : 'not measured (not a process of this machine)'}`,
    )
  } finally {
    await app.close()
  }

  if (values.check) {
    // Every stored area list against a direct ST_Covers on the whole polygons (the slow original query).
    const t1 = performance.now()
    const { rows } = await db.execute<{ id: string; stored: string[]; direct: string[] }>(sql`
      SELECT id, stored, direct FROM (
        SELECT p.id, p.area_pcodes AS stored,
               ARRAY(SELECT a.pcode FROM areas a WHERE ST_Covers(a.geom, p.location) ORDER BY a.admin_level, a.pcode) AS direct
        FROM providers p) x
      WHERE stored IS DISTINCT FROM direct`)
    console.log(`check: ${rows.length} of ${N.toLocaleString('en')} providers' areas differ from a direct ST_Covers (${seconds(t1).toFixed(1)} s)`)
    for (const r of rows.slice(0, 10)) console.log(`  ${r.id}: stored ${r.stored.join(',')} direct ${r.direct.join(',')}`)
    if (rows.length) process.exitCode = 1
  }
  console.log(`load average at end: ${load()}`)
} finally {
  await database.drop()
}
