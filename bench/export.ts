// Directory export over real HTTP: N synthetic providers (default 100,000) in a scratch database, the production
// server (src/server.ts) started afresh for each format, GET /v1/providers/export?format=… read to the end by this
// process. Prints, per format, the time to the first byte and to the last, the bytes and rows received, the
// server process's peak resident set (VmHWM from /proc/<pid>/status, Linux), which a fresh process per format
// keeps to that format's own peak, and the CPU seconds the run cost the server process and the database's
// backends (from /proc/<pid>/stat): on a busy machine the wall time says little, the CPU time still compares.
// Issue 9 asks for at most 3 s (CSV) and under 200 MB.
// Usage: npm run bench:export -- [--n 100000] [--runs 2] [--formats csv,geojson,hsds] [--profile DIR]
//                                [--node-args "--max-old-space-size=64"]
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { sql } from 'drizzle-orm'
import { PROJECT_ROOT } from '../src/db/database.js'
import { FORMATS } from '../src/modules/export/service.js'
import type { ExportFormat } from '../src/modules/export/schemas.js'
import { keyFor } from '../test/helpers/app.js'
import { accepts, freePort } from '../test/helpers/server.js'
import { gridAreaPcodes, insertAreaGrid } from './area-grid.js'
import { scratchDatabase } from './scratch.js'

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '2' },
    formats: { type: 'string', default: 'csv,geojson,hsds' },
    // A directory for a V8 CPU profile of each server process (--cpu-prof), to see where the time goes.
    profile: { type: 'string' },
    // Extra node options for the server, space-separated (e.g. "--max-old-space-size=64" to see the live memory).
    'node-args': { type: 'string', default: '' },
    // Print the plan of the export query (EXPLAIN ANALYZE, VERBOSE) before the runs.
    explain: { type: 'boolean', default: false },
  },
})
const N = Number(values.n)
const RUNS = Number(values.runs)
const FORMATS_RUN = values.formats.split(',') as ExportFormat[]

/** CPU seconds (user + system) process `pid` has used; 0 once it is gone. */
const cpuSeconds = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in clock ticks (USER_HZ, 100 on Linux)
  } catch {
    return 0
  }
}

const peakRssMb = (pid: number) => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}


async function startServer(env: Record<string, string>) {
  const port = await freePort()
  // As `npm start` runs it: the compiled server under plain node (built first when dist/ is stale).
  const profile = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : []
  const nodeArgs = values['node-args'].split(' ').filter(Boolean)
  const child = spawn(process.execPath, [...nodeArgs, ...profile, 'scripts/start.mjs'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  const exited = once(child, 'exit')
  while (!(await accepts('127.0.0.1', port))) {
    if (child.exitCode !== null) throw new Error('the server exited early')
    await new Promise((r) => setTimeout(r, 100))
  }
  return { port, pid: child.pid!, stop: async () => (child.kill('SIGTERM'), await exited) }
}

const database = await scratchDatabase()
const db = database.db
try {
  const loadStart = performance.now()
  await insertAreaGrid(db)
  // Fuller rows than bench:nearest's (names in three scripts, an address, phones, a service, languages, a
  // verification, an external id): an export writes every column.
  await db.execute(sql`SELECT setseed(0.42)`)
  await db.execute(sql`
    WITH rows AS (SELECT g, 88.2 + random() * 4.2 AS lon, 20.8 + random() * 5.6 AS lat, random() AS r FROM generate_series(1, ${N}::int) g)
    INSERT INTO providers (name, names, search_text, kind, categories, services, location, area_pcodes, address, phones,
                           languages, status, verified_on, verification_method, external_ids, location_visibility)
    SELECT 'সেবা কেন্দ্র ' || g, jsonb_build_object('bn', 'সেবা কেন্দ্র ' || g, 'km', 'មណ្ឌល ' || g, 'en', 'Service centre ' || g),
           'provider ' || g, 'ngo',
           ARRAY[(ARRAY['health','legal','counselling','shelter','livelihood'])[1 + (g % 5)]],
           jsonb_build_array(jsonb_build_object('category', (ARRAY['health','legal','counselling','shelter','livelihood'])[1 + (g % 5)], 'name', 'Service ' || g)),
           ST_SetSRID(ST_MakePoint(lon, lat), 4326),
           ${gridAreaPcodes(sql`lon`, sql`lat`)},
           'House ' || g || ', Road ' || (g % 40) || ', Union ' || (g % 500), ARRAY['+88017' || lpad(g::text, 8, '0')],
           ARRAY['bn', 'en'], CASE WHEN r < 0.9 THEN 'active' ELSE 'suspended' END, DATE '2025-01-01' + (g % 300),
           'phone_call', jsonb_build_array(jsonb_build_object('scheme', 'bench', 'id', g::text)), NULL
    FROM rows`)
  await db.execute(sql`VACUUM (ANALYZE) providers`)
  console.log(`loaded ${N.toLocaleString('en')} providers in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`)
  const { authorization } = await keyFor(db, 'admin')
  const admin = { exact: 'all' } as const
  if (values.explain) {
    for (const format of FORMATS_RUN) {
      const { rows } = await db.execute<{ 'QUERY PLAN': string }>(sql`EXPLAIN (ANALYZE, VERBOSE, BUFFERS) ${FORMATS[format].sql([], admin)}`)
      console.log(`${format}:\n${rows.map((r) => r['QUERY PLAN']).join('\n')}`)
    }
  }
  // The database's share: each format's own SQL for an admin, every row built as text, nothing sent.
  for (const format of FORMATS_RUN) {
    const dbStart = performance.now()
    await db.execute(sql`SELECT count(*), sum(length(x::text)) FROM (${FORMATS[format].sql([], admin)}) x`)
    console.log(`${format}: its query alone (in the database, rows built as text): ${((performance.now() - dbStart) / 1000).toFixed(2)} s, load ${loadavg()[0].toFixed(2)}`)
  }
  /** CPU seconds used so far by each backend connected to the scratch database (the server's pool among them). */
  const backendCpu = async () => {
    const { rows } = await db.execute<{ pid: number }>(sql`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
    return new Map(rows.map((r) => [r.pid, cpuSeconds(r.pid)]))
  }

  const env = { DATABASE_URL: database.url, TIME_ZONE: 'UTC', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0', SEED_DEMO: 'false' }
  console.log('format   run  first byte    total      MB  rows       server peak RSS  CPU s: server  database  load (1 min)')
  for (const format of FORMATS_RUN) {
    const server = await startServer(env)
    try {
      const baseline = peakRssMb(server.pid)
      for (let run = 1; run <= RUNS; run++) {
        const cpuBefore = cpuSeconds(server.pid)
        const dbBefore = await backendCpu()
        const start = performance.now()
        const res = await fetch(`http://127.0.0.1:${server.port}/v1/providers/export?format=${format}`, { headers: { authorization } })
        if (res.status !== 200) throw new Error(`${format}: ${res.status} ${await res.text()}`)
        let firstByte = 0
        let bytes = 0
        let newlines = 0
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          if (!firstByte) firstByte = performance.now() - start
          bytes += chunk.length
          for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) newlines++
        }
        const total = performance.now() - start
        const serverCpu = cpuSeconds(server.pid) - cpuBefore
        let dbCpu = 0
        for (const [pid, seconds] of await backendCpu()) dbCpu += seconds - (dbBefore.get(pid) ?? 0)
        // One line per record in every format, plus the CSV header or the JSON opening and closing lines.
        const rows = format === 'csv' ? newlines - 1 : newlines - 2
        console.log(
          `${format.padEnd(8)} ${String(run).padStart(3)}  ${(firstByte / 1000).toFixed(2).padStart(8)} s ${(total / 1000).toFixed(2).padStart(8)} s ` +
            `${(bytes / 1e6).toFixed(1).padStart(7)}  ${String(rows).padStart(7)}  ${peakRssMb(server.pid).toFixed(0).padStart(8)} MB (idle ${baseline.toFixed(0)})  ${serverCpu.toFixed(2).padStart(12)} ${dbCpu.toFixed(2).padStart(9)}  ${loadavg()[0].toFixed(2)}`,
        )
      }
    } finally {
      await server.stop()
    }
  }
} finally {
  await database.drop()
}
