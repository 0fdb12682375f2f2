// Nearest-provider throughput over real HTTP, against a yardstick measured in the same run: N synthetic
// providers in a scratch database; the production server (src/server.ts, as `npm start` runs it) and a bare
// Fastify + pg server running the same SQL text (bench/reference-server.ts), each in its own process; autocannon
// driving C keep-alive connections for D seconds from this one, alternating between the servers for R rounds.
// Usage: npm run bench:nearest -- [--n 100000] [--connections 32] [--seconds 10] [--rounds 5] [--limit 10]
//                                 [--baseline DIR]
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { sql } from 'drizzle-orm'
import { PROJECT_ROOT } from '../src/db/database.js'
import { createTestDatabase } from '../test/helpers/db.js'
import { accepts, freePort } from '../test/helpers/server.js'
import { gridAreaPcodes, insertAreaGrid } from './area-grid.js'

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    connections: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
    limit: { type: 'string', default: '10' },
    // Another checkout of setu (e.g. the commit before a change, with node_modules): measured in the same rounds.
    baseline: { type: 'string' },
  },
})
const N = Number(values.n)
const CONNECTIONS = Number(values.connections)
const SECONDS = Number(values.seconds)
const ROUNDS = Number(values.rounds)
const LIMIT = Number(values.limit)
const CATEGORIES = ['health', 'legal', 'counselling', 'shelter', 'livelihood']
const POOL_MAX = '10'

interface Server {
  label: string
  port: number
  pid: number
  stop(): Promise<void>
}

// CPU time per request, of the server process and of the PostgreSQL backends serving it, does not depend on
// what else the machine runs the way requests per second do. Read from /proc (Linux, local database only).
const TICKS_PER_S = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }))
  } catch {
    return 100
  }
})()
function cpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S
  } catch {
    return undefined
  }
}


/** Starts `script` under tsx in `cwd` and waits until it accepts connections. */
async function startProcess(label: string, cwd: string, script: string, env: Record<string, string>): Promise<Server> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const exited = once(child, 'exit')
  let gone = false
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => (output += d))
    child.stderr.on('data', (d: Buffer) => (output += d))
    void exited.then(() => {
      gone = true
      reject(new Error(`${label} exited early:\n${output}`))
    })
    // At LOG_LEVEL warn the server announces nothing: the port accepting connections is the sign it listens.
    const poll = async () => {
      while (!gone) {
        if (await accepts('127.0.0.1', port)) return resolve()
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    void poll()
  })
  return {
    label,
    port,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM')
      await exited
    },
  }
}

const database = await createTestDatabase()
const db = database.db
const servers: Server[] = []
try {
  const loadStart = performance.now()
  await insertAreaGrid(db)
  // Like PERFORMANCE-NOTES: clustered around 64 "district centres" inside Bangladesh's bounding box,
  // 1-3 categories each, 90 % active. Deterministic (setseed) so runs compare. location_visibility is left NULL,
  // so the database decides it as for any provider written without one: approximate for shelters (about a
  // third of the rows), exact for the others. The areas of each row are its cells of the grid above.
  await db.execute(sql`SELECT setseed(0.42)`)
  await db.execute(sql`
    WITH centres AS (
      SELECT c, 88.2 + random() * 4.2 AS lon, 20.8 + random() * 5.6 AS lat FROM generate_series(0, 63) c
    ), rows AS (
      SELECT g, c.lon + (random() - 0.5) * 0.6 AS lon, c.lat + (random() - 0.5) * 0.6 AS lat, random() AS r1, random() AS r2
      FROM generate_series(1, ${N}::int) g JOIN centres c ON c.c = g % 64
    )
    INSERT INTO providers (name, names, search_text, kind, categories, location, area_pcodes, status, location_visibility)
    SELECT 'Provider ' || g, '{}'::jsonb, 'provider ' || g, 'ngo',
           (ARRAY['health','legal','counselling','shelter','livelihood'])[1 + (g % 5)] ||
             CASE WHEN r1 < 0.5 THEN ARRAY[(ARRAY['health','legal','counselling','shelter','livelihood'])[1 + ((g + 1) % 5)]] ELSE '{}' END ||
             CASE WHEN r1 < 0.2 THEN ARRAY[(ARRAY['health','legal','counselling','shelter','livelihood'])[1 + ((g + 3) % 5)]] ELSE '{}' END,
           ST_SetSRID(ST_MakePoint(lon, lat), 4326),
           ${gridAreaPcodes(sql`lon`, sql`lat`)},
           CASE WHEN r2 < 0.9 THEN 'active' ELSE 'suspended' END,
           NULL
    FROM rows`)
  // VACUUM too: left to autovacuum, vacuuming the freshly loaded table would run during some of the rounds.
  await db.execute(sql`VACUUM (ANALYZE) providers`)
  console.log(`loaded ${N.toLocaleString('en')} providers in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`)

  const env = { DATABASE_URL: database.url, DATABASE_POOL_MAX: POOL_MAX, TIME_ZONE: 'UTC' }
  const setuEnv = { ...env, LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0', SEED_DEMO: 'false' }
  servers.push(await startProcess('setu', PROJECT_ROOT, 'src/server.ts', setuEnv))
  servers.push(await startProcess('reference', PROJECT_ROOT, 'bench/reference-server.ts', env))
  if (values.baseline) servers.push(await startProcess('baseline', path.resolve(values.baseline), 'src/server.ts', setuEnv))

  // Points spread over the providers' box; 5 in 6 requests name a category (the per-category partial
  // index), 1 in 6 does not (the shared geography index). Every run replays the same sequence.
  const pathAt = (i: number) => {
    const lat = 20.8 + ((i * 7919) % 5600) / 1000
    const lon = 88.2 + ((i * 104729) % 4200) / 1000
    const category = i % 6 === 5 ? '' : `&category=${CATEGORIES[i % 5]}`
    return `/v1/providers/nearest?lat=${lat}&lon=${lon}&limit=${LIMIT}${category}`
  }

  // The reference only counts as a yardstick if it answers exactly what setu answers (both run the anonymous
  // statement). A baseline, an older checkout, may answer other fields (issue 8 added location_visibility,
  // location_masked, organisation_id, and masks shelters for anonymous callers): it must find the same providers
  // in the same order.
  const itemIds = (body: string) => (JSON.parse(body) as { items: Array<{ id: string }> }).items.map((p) => p.id)
  let [items, masked] = [0, 0]
  for (let i = 0; i < 12; i++) {
    const bodies = await Promise.all(
      servers.map(async (s) => {
        const res = await fetch(`http://127.0.0.1:${s.port}${pathAt(i)}`)
        if (res.status !== 200) throw new Error(`${s.label} answered ${res.status} to ${pathAt(i)}: ${await res.text()}`)
        return res.text()
      }),
    )
    const setuItems = (JSON.parse(bodies[0]) as { items: Array<{ location_masked: boolean }> }).items
    items += setuItems.length
    masked += setuItems.filter((p) => p.location_masked).length
    for (let k = 1; k < servers.length; k++) {
      if (servers[k].label === 'baseline') {
        const [ours, theirs] = [itemIds(bodies[0]), itemIds(bodies[k])]
        if (ours.join() !== theirs.join()) {
          console.error(`baseline and ${servers[0].label} find other providers for ${pathAt(i)}:`)
          console.error(`  ${servers[0].label}: ${ours.join(' ')}`)
          console.error(`  baseline: ${theirs.join(' ')}`)
          process.exitCode = 1
        }
      } else if (bodies[k] !== bodies[0]) {
        const at = [...bodies[0]].findIndex((c, j) => c !== bodies[k][j])
        console.error(`${servers[k].label} and ${servers[0].label} differ for ${pathAt(i)} at character ${at}:`)
        console.error(`  ${servers[0].label}: …${bodies[0].slice(Math.max(0, at - 80), at + 80)}…`)
        console.error(`  ${servers[k].label}: …${bodies[k].slice(Math.max(0, at - 80), at + 80)}…`)
        process.exitCode = 1
      }
    }
  }
  if (process.exitCode) throw new Error('the servers do not answer the same providers; nothing measured')
  console.log(
    `setu and the reference answer byte-identical bodies to 12 requests (${masked} of ${items} providers masked)` +
      (values.baseline ? '; the baseline the same providers in the same order' : ''),
  )

  const run = (server: Server, duration: number) => {
    let seq = 0
    return autocannon({
      url: `http://127.0.0.1:${server.port}`,
      connections: CONNECTIONS,
      duration,
      requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: pathAt(seq++) }) }],
    })
  }
  /** CPU milliseconds so far of each client backend on the scratch database but this one; only the server under load works. */
  const backendCpu = async () => {
    const { rows } = await db.$client.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
    )
    return new Map(rows.map((r) => [r.pid, cpuMs(r.pid)]))
  }
  const backendCpuSince = (before: Map<number, number | undefined>, after: Map<number, number | undefined>) => {
    let total = 0
    for (const [pid, ms] of after) {
      if (ms === undefined) return undefined
      total += ms - (before.get(pid) ?? 0)
    }
    return total
  }

  type Sample = { rps: number; p50: number; p99: number; errors: number; nodeMs?: number; pgMs?: number; clientMs: number }
  const measure = async (s: Server): Promise<Sample> => {
    // Warm-up right before each run: every pooled connection prepares its statements and loads PostGIS (pg's
    // pool closes connections idle for 10 s, as a server's are while the others are measured).
    await run(s, 2)
    const [node0, pg0] = [cpuMs(s.pid), await backendCpu()]
    const client0 = process.cpuUsage()
    const r = await run(s, SECONDS)
    const client = process.cpuUsage(client0)
    const [node1, pg1] = [cpuMs(s.pid), await backendCpu()]
    const n = r.requests.total
    const pg = backendCpuSince(pg0, pg1)
    return {
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      errors: r.errors + r.non2xx,
      nodeMs: node0 !== undefined && node1 !== undefined ? (node1 - node0) / n : undefined,
      pgMs: pg !== undefined ? pg / n : undefined,
      // autocannon, in this process: reading a larger response (more headers) costs the client too.
      clientMs: (client.user + client.system) / 1000 / n,
    }
  }

  const samples = new Map<string, Sample[]>(servers.map((s) => [s.label, []]))
  const load = [loadavg()[0]]
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order so that a drift in the machine's load favours neither server.
    const order = round % 2 === 0 ? servers : [...servers].reverse()
    const line: string[] = []
    for (const s of order) {
      const r = await measure(s)
      samples.get(s.label)!.push(r)
      line.push(`${s.label} ${Math.round(r.rps).toLocaleString('en')} req/s p99 ${r.p99} ms`)
    }
    load.push(loadavg()[0])
    console.log(`round ${round + 1}: ${line.join(', ')}  (load ${loadavg()[0].toFixed(2)})`)
  }

  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b)
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
  }
  const summary = (label: string) => {
    const xs = samples.get(label)!
    const cpu = (key: 'nodeMs' | 'pgMs' | 'clientMs') => (xs.every((x) => x[key] !== undefined) ? median(xs.map((x) => x[key]!)) : undefined)
    return {
      rps: median(xs.map((x) => x.rps)),
      p50: median(xs.map((x) => x.p50)),
      p99: median(xs.map((x) => x.p99)),
      errors: xs.reduce((n, x) => n + x.errors, 0),
      nodeMs: cpu('nodeMs'),
      pgMs: cpu('pgMs'),
      clientMs: cpu('clientMs'),
    }
  }
  const ms = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(3))
  const ref = summary('reference')
  console.log(
    `\nnearest (limit ${LIMIT}, 5/6 with a category), ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s, ` +
      `medians; 1-minute load average ${Math.min(...load).toFixed(2)}–${Math.max(...load).toFixed(2)}`,
  )
  for (const s of servers) {
    const m = summary(s.label)
    const ratios = samples.get(s.label)!.map((x, i) => x.rps / samples.get('reference')![i].rps)
    console.log(
      `${s.label.padEnd(10)} ${Math.round(m.rps).toLocaleString('en').padStart(7)} req/s  p50 ${m.p50} ms  p99 ${m.p99} ms  ${m.errors} errors  ` +
        `CPU ms/request: server ${ms(m.nodeMs)}, PostgreSQL ${ms(m.pgMs)}, client ${ms(m.clientMs)}` +
        (s.label === 'reference'
          ? ''
          : `  | req/s ${(m.rps / ref.rps).toFixed(3)} of the reference (per-round median ${median(ratios).toFixed(3)}), p99 ${(m.p99 / ref.p99).toFixed(2)}×`),
    )
  }
} finally {
  for (const s of servers) await s.stop()
  await database.drop()
}
