// Map tile latency over real HTTP: the real Bangladesh boundaries (../shared/data, 8 / 64 / 544 / 5,160 areas) and N
// synthetic providers in a scratch database, the production server (src/server.ts) in its own process, and the
// tiles a map of Dhaka (23.81 N, 90.41 E) asks for at zooms 6 to 14: the tile over Dhaka and its 8 neighbours, each
// layer, one request at a time (latency, not throughput), R rounds after a warm-up pass. Providers are asked as an
// anonymous caller (masked: approximate shelters at their union's point, hidden ones left out) and as an admin.
// Usage: npm run bench:tiles -- [--n 100000] [--rounds 5] [--explain [--zoom 10]]
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { sql } from 'drizzle-orm'
import { PROJECT_ROOT } from '../src/db/database.js'
import { DEMO_ORGANISATION_ID, keysRepo } from '../src/modules/access/keys.js'
import { providersTileSql, tileStatementSettings } from '../src/modules/tiles/spatial.js'
import { accepts, freePort } from '../test/helpers/server.js'
import { BOUNDARIES, importBgdBoundaries, missingBoundaries } from './bgd-boundaries.js'
import { scratchDatabase } from './scratch.js'
import { unionPointsCtes } from './union-points.js'

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '5' },
    // Print the plans (EXPLAIN ANALYZE, BUFFERS) of the providers tile over Dhaka's centre at --zoom, as an anonymous
    // caller and as an admin, and stop.
    explain: { type: 'boolean', default: false },
    zoom: { type: 'string', default: '10' },
  },
})
const N = Number(values.n)
const ROUNDS = Number(values.rounds)
if (!(N >= 1) || !(ROUNDS >= 1)) throw new Error('need --n ≥ 1 and --rounds ≥ 1')
const DHAKA = { lat: 23.81, lon: 90.41 }
const ZOOMS = [6, 7, 8, 9, 10, 11, 12, 13, 14]

const missing = missingBoundaries()
if (missing.length) {
  console.error(`bench:tiles needs the shared boundary data set in ${BOUNDARIES} (missing: ${missing.join(', ')}); see its README.`)
  process.exit(2)
}

const seconds = (since: number) => (performance.now() - since) / 1000
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ')
const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

/** The XYZ tile holding a point. */
function tileOf(lat: number, lon: number, z: number) {
  const n = 2 ** z
  const rad = (lat * Math.PI) / 180
  return { x: Math.floor(((lon + 180) / 360) * n), y: Math.floor(((1 - Math.asinh(Math.tan(rad)) / Math.PI) / 2) * n) }
}

/** The tile over Dhaka and the 8 around it: what a phone's screen shows at that zoom. */
function viewOf(z: number): string[] {
  const { x, y } = tileOf(DHAKA.lat, DHAKA.lon, z)
  const out: string[] = []
  for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) out.push(`${z}/${x + dx}/${y + dy}`)
  return out
}

async function startSetu(env: Record<string, string>) {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0', SEED_DEMO: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d))
  child.stderr.on('data', (d: Buffer) => (output += d))
  const exited = once(child, 'exit')
  let gone = false
  void exited.then(() => (gone = true))
  while (!(await accepts('127.0.0.1', port))) {
    if (gone) throw new Error(`setu exited early:\n${output}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    base: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM')
      await exited
    },
  }
}

/** The plans of the providers tile over Dhaka's centre at zoom z, masked and not, as the route runs it. */
async function explain(z: number) {
  for (const viewer of [{ exact: 'none' }, { exact: 'all' }] as const) {
    const { rows } = await db.transaction(async (tx) => {
      await tx.execute(tileStatementSettings)
      return tx.execute<{ 'QUERY PLAN': string }>(sql`EXPLAIN (ANALYZE, BUFFERS) ${providersTileSql({ z, ...tileOf(DHAKA.lat, DHAKA.lon, z) }, viewer)}`)
    })
    console.log(`\nviewer ${JSON.stringify(viewer)}, zoom ${z}:\n${rows.map((r) => r['QUERY PLAN']).join('\n')}`)
  }
  console.log(`load average at end: ${load()}`)
}

/** Every tile of the view at each zoom, each layer and caller, ROUNDS times after a warm-up pass; prints the table. */
async function measure(base: string, adminKey: string) {
  const callers: Array<{ label: string; layer: 'areas' | 'providers'; headers: Record<string, string> }> = [
    { label: 'areas', layer: 'areas', headers: {} },
    { label: 'providers, anonymous', layer: 'providers', headers: {} },
    { label: 'providers, admin', layer: 'providers', headers: { authorization: `Bearer ${adminKey}` } },
  ]
  type Sample = { ms: number; bytes: number; status: number }
  const samples = new Map<string, Sample[]>()
  const ask = async (url: string, headers: Record<string, string>): Promise<Sample> => {
    const start = performance.now()
    const res = await fetch(url, { headers })
    const bytes = (await res.arrayBuffer()).byteLength
    if (res.status !== 200 && res.status !== 204) throw new Error(`${url}: ${res.status}`)
    return { ms: performance.now() - start, bytes, status: res.status }
  }
  // Warm-up: every tile once (PostgreSQL's caches, the server's pool and compiled routes).
  for (const z of ZOOMS) for (const c of callers) for (const t of viewOf(z)) await ask(`${base}/v1/tiles/${c.layer}/${t}.mvt`, c.headers)
  const loads: string[] = []
  for (let round = 0; round < ROUNDS; round++) {
    for (const z of ZOOMS) {
      for (const c of callers) {
        const key = `${c.label} ${z}`
        const list = samples.get(key) ?? []
        for (const t of viewOf(z)) list.push(await ask(`${base}/v1/tiles/${c.layer}/${t}.mvt`, c.headers))
        samples.set(key, list)
      }
    }
    loads.push(load())
  }

  console.log(`\n${ROUNDS} rounds of 9 tiles per zoom and layer; load average after each round: ${loads.join(' | ')}`)
  console.log("milliseconds per tile over the 9 tiles, median / p95; then the tile over Dhaka's centre: fastest of the rounds (least disturbed by other load) and its size\n")
  const header = ['zoom', ...callers.map((c) => c.label)]
  console.log(`| ${header.join(' | ')} |`)
  console.log(`|${header.map(() => '---').join('|')}|`)
  for (const z of ZOOMS) {
    const cells = callers.map((c) => {
      const list = samples.get(`${c.label} ${z}`)!
      const ms = list.map((s) => s.ms)
      // viewOf lists the centre tile fifth.
      const centre = list.filter((_, i) => i % 9 === 4)
      const size = centre[0].status === 204 ? '204' : `${(centre[0].bytes / 1024).toFixed(0)} kB`
      return `${quantile(ms, 0.5).toFixed(1)} / ${quantile(ms, 0.95).toFixed(1)}; ${Math.min(...centre.map((s) => s.ms)).toFixed(1)} (${size})`
    })
    console.log(`| ${z} | ${cells.join(' | ')} |`)
  }
  const over = [...samples].filter(([, list]) => quantile(list.map((s) => s.ms), 0.5) >= 50).map(([k]) => k)
  console.log(over.length ? `\nmedian at or over 50 ms: ${over.join(', ')}` : '\nevery median under 50 ms')
  console.log(`load average at end: ${load()}`)
}

const database = await scratchDatabase()
const db = database.db
let server: Awaited<ReturnType<typeof startSetu>> | undefined
try {
  console.log(`load average at start: ${load()}`)
  const t0 = performance.now()
  await importBgdBoundaries(db)
  console.log(`imported the BGD boundaries (with their generalised polygons) in ${seconds(t0).toFixed(1)} s`)

  // As bench/coverage.ts: points inside the unions, 0 to 2.2× the mean per union (seeded), so that small urban unions
  // are dense, each with its union and the union's parents as area_pcodes (what a write computes). 1-3 categories,
  // 90 % active; location_visibility left to the database: a shelter is approximate (about a third of the rows).
  const t1 = performance.now()
  await db.transaction(async (tx) => {
    await tx.execute(sql`SELECT setseed(0.42)`)
    await tx.execute(sql`
      WITH ${unionPointsCtes(N)}, numbered AS (
        SELECT row_number() OVER (ORDER BY ord, pt) AS g, pcodes, pt, random() AS r1, random() AS r2
        FROM (SELECT * FROM pts ORDER BY ord, pt LIMIT ${N}::int) p
      )
      INSERT INTO providers (name, search_text, kind, categories, location, area_pcodes, status, location_visibility, organisation_id)
      SELECT 'Bench provider ' || g, 'bench provider ' || g, 'ngo',
             (ARRAY['health','legal','counselling','shelter','livelihood'])[1 + (g % 5)::int] ||
               CASE WHEN r1 < 0.5 THEN ARRAY[(ARRAY['health','legal','counselling','shelter','livelihood'])[1 + ((g + 1) % 5)::int]] ELSE '{}' END ||
               CASE WHEN r1 < 0.2 THEN ARRAY[(ARRAY['health','legal','counselling','shelter','livelihood'])[1 + ((g + 3) % 5)::int]] ELSE '{}' END,
             pt, pcodes, CASE WHEN r2 < 0.9 THEN 'active' ELSE 'suspended' END, NULL, ${DEMO_ORGANISATION_ID}::uuid
      FROM numbered`)
  })
  await db.execute(sql`VACUUM (ANALYZE) providers`)
  await db.execute(sql`VACUUM (ANALYZE) areas`)
  await db.execute(sql`VACUUM (ANALYZE) area_generalised`)
  const { rows: counts } = await db.execute<{ p: number; near: number }>(sql`
    SELECT (SELECT count(*) FROM providers)::int AS p,
           (SELECT count(*) FROM providers WHERE ST_DWithin(location::geography, ST_MakePoint(${DHAKA.lon}, ${DHAKA.lat})::geography, 10000))::int AS near`)
  console.log(`loaded ${counts[0].p.toLocaleString('en')} providers (${counts[0].near.toLocaleString('en')} within 10 km of Dhaka's centre) in ${seconds(t1).toFixed(1)} s`)
  const admin = await keysRepo(db).createKey({ organisationId: DEMO_ORGANISATION_ID, role: 'admin' })
  if (values.explain) await explain(Number(values.zoom))
  else {
    server = await startSetu({ DATABASE_URL: database.url, TIME_ZONE: 'UTC' })
    await measure(server.base, admin.key)
  }
} finally {
  await server?.stop()
  await database.drop()
}
