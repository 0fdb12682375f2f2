// npm run keys, run for real: create (the organisation on the way), list, revoke, against a test database, and
// the same command on the private cluster when the run uses one. stdout carries JSON only; messages go to stderr.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { sql } from 'drizzle-orm'
import t from 'tap'
import type { Db } from '../../src/db/client.js'
import { PROJECT_ROOT } from '../../src/db/database.js'
import { KEY_PATTERN } from '../../src/modules/access/keys.js'
import { buildTestApp } from '../helpers/app.js'
import { insertArea } from '../helpers/factories.js'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * The keys command on `databaseUrl` (unset: the private cluster), without tap's NODE_OPTIONS: through
 * `npm run -s keys -- …` as a person types it when `viaNpm`, else straight through tsx (a second faster).
 */
async function keysRun(viaNpm: boolean, databaseUrl: string | undefined, args: string[]): Promise<Run> {
  const env = { ...process.env }
  delete env.NODE_OPTIONS
  if (databaseUrl === undefined) delete env.DATABASE_URL
  else env.DATABASE_URL = databaseUrl
  const [command, ...commandArgs] = viaNpm
    ? ['npm', 'run', '--silent', 'keys', '--', ...args]
    : [process.execPath, '--import', 'tsx', 'scripts/keys.ts', ...args]
  const child = spawn(command, commandArgs, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const [code] = (await once(child, 'close')) as [number | null]
  return { code, stdout, stderr }
}

const keys = (databaseUrl: string | undefined, ...args: string[]) => keysRun(false, databaseUrl, args)

const jsonLines = (out: string) =>
  out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)

async function counts(db: Db) {
  const { rows } = await db.execute<{ keys: number; organisations: number }>(
    sql`SELECT (SELECT count(*) FROM api_keys) AS keys, (SELECT count(*) FROM organisations) AS organisations`,
  )
  return rows[0]
}

t.test('create makes the organisation and prints one JSON object with the key, which then works', async (t) => {
  const { app, db, dbUrl } = await buildTestApp(t, {}, { auth: 'none' })
  const run = await keysRun(true, dbUrl, ['create', '--org', 'Jessore Rights Forum', '--role', 'admin', '--label', 'first admin'])
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stdout.trim().split('\n').length, 1, 'stdout is one line: npm run -s prints no banner')
  const created = JSON.parse(run.stdout)
  t.match(created, { id: /^[0-9a-f-]{36}$/, key: KEY_PATTERN, org: 'Jessore Rights Forum', role: 'admin', label: 'first admin', areas: null })
  t.match(run.stderr, /not stored and cannot be shown again/, 'the warning goes to stderr')

  const asAdmin = { authorization: `Bearer ${created.key}` }
  const listed = await app.inject({ url: '/v1/organisations', headers: asAdmin })
  t.equal(listed.statusCode, 200, 'the new admin key works over HTTP')
  t.ok(listed.json().items.some((o: { name: string }) => o.name === 'Jessore Rights Forum'), 'the organisation was created')

  const audit = await app.inject({ url: '/v1/audit?order=oldest', headers: asAdmin })
  const entries = audit.json().items.filter((e: { actor: { role: string } }) => e.actor.role === 'cli')
  t.match(entries, [
    { entity: 'organisation', action: 'create', actor: { key_id: null, role: 'cli' }, before: null, after: { name: 'Jessore Rights Forum' } },
    { entity: 'api_key', entity_id: created.id, action: 'create', actor: { key_id: null, role: 'cli' }, after: { role: 'admin', label: 'first admin' } },
  ], 'both writes are audited as made by the keys command')

  const second = await keys(dbUrl, 'create', '--org', 'Jessore Rights Forum', '--role', 'viewer')
  t.equal(second.code, 0, second.stderr)
  t.equal(JSON.parse(second.stdout).org, 'Jessore Rights Forum')
  const { rows } = await db.execute<{ n: number }>(sql`SELECT count(*) AS n FROM organisations WHERE name = 'Jessore Rights Forum'`)
  t.equal(rows[0].n, 1, 'an existing organisation is reused')
})

t.test('editor keys with --areas; unknown areas and bad arguments fail with a message and create nothing', async (t) => {
  const { db, dbUrl } = await buildTestApp(t, {}, { auth: 'none' })
  await insertArea(db, { pcode: 'KH12', name_en: 'Phnom Penh', country: 'KHM', admin_level: 1, bbox: [104.7, 11.4, 105.1, 11.7] })
  const ok = await keys(dbUrl, 'create', '--org', 'Phnom Penh Legal', '--role', 'editor', '--areas', 'KH12')
  t.equal(ok.code, 0, ok.stderr)
  t.match(JSON.parse(ok.stdout), { role: 'editor', areas: ['KH12'] })

  const before = await counts(db)
  const failures: Array<[string, string[], number, RegExp]> = [
    ['an unknown area', ['create', '--org', 'New Partner', '--role', 'editor', '--areas', 'KH12,KH99'], 1, /KH99/],
    ['no --role', ['create', '--org', 'New Partner'], 2, /--role/],
    ['no --org', ['create', '--role', 'viewer'], 2, /--org/],
    ['an unknown role', ['create', '--org', 'New Partner', '--role', 'owner'], 2, /--role/],
    ['--areas for a viewer', ['create', '--org', 'New Partner', '--role', 'viewer', '--areas', 'KH12'], 2, /editor/],
    ['an unknown option', ['create', '--org', 'New Partner', '--role', 'viewer', '--colour', 'red'], 2, /colour/],
    ['an unknown command', ['rotate'], 2, /unknown command rotate/],
    ['no command', [], 2, /no command/],
    ['revoke without an id', ['revoke'], 2, /key id/],
    ['revoke of something not an id', ['revoke', 'setu_abc'], 2, /UUID/],
  ]
  const runs = await Promise.all(failures.map(([, args]) => keys(dbUrl, ...args)))
  for (const [i, [what, , code, message]] of failures.entries()) {
    const run = runs[i]
    t.equal(run.code, code, `${what}: exit ${code}`)
    t.equal(run.stdout, '', `${what}: nothing on stdout`)
    t.match(run.stderr, message, `${what}: says why`)
  }
  t.same(await counts(db), before, 'no failed command created a key or an organisation')
})

t.test('list shows every key without secrets; revoke revokes once and says so', async (t) => {
  const { app, db, dbUrl } = await buildTestApp(t, {}, { auth: 'none' })
  const created = JSON.parse((await keys(dbUrl, 'create', '--org', 'Battambang Shelter', '--role', 'editor')).stdout)
  const asEditor = { authorization: `Bearer ${created.key}` }
  t.equal((await app.inject({ url: '/v1/mous', headers: asEditor })).statusCode, 200)

  const list = await keys(dbUrl, 'list')
  t.equal(list.code, 0, list.stderr)
  const lines = jsonLines(list.stdout)
  t.equal(lines.length, 2, "the test app's admin key and the new one")
  t.match(lines.find((l) => l.id === created.id), { org: 'Battambang Shelter', role: 'editor', prefix: created.key.slice(0, 12), revoked_at: null })
  t.notMatch(list.stdout, created.key.slice(12), 'no secret is listed')
  t.ok(lines.every((l) => !('key' in l)))
  const filtered = jsonLines((await keys(dbUrl, 'list', '--org', 'Battambang Shelter')).stdout)
  t.same(filtered.map((l) => l.id), [created.id], '--org lists one organisation’s keys')
  const nobody = await keys(dbUrl, 'list', '--org', 'Nobody')
  t.equal(nobody.code, 1)
  t.match(nobody.stderr, /no organisation is called "Nobody"/)

  const revoked = await keys(dbUrl, 'revoke', created.id)
  t.equal(revoked.code, 0, revoked.stderr)
  t.match(JSON.parse(revoked.stdout), { id: created.id, revoked_at: /^\d{4}-/ })
  t.match(revoked.stderr, /revoked key .*within 4 seconds/)
  const { rows } = await db.execute<{ action: string; role: string; before: { revoked_at: string | null } }>(
    sql`SELECT action, role, before FROM audit_log WHERE entity = 'api_key' AND entity_id = ${created.id} AND action = 'revoke'`,
  )
  t.match(rows, [{ action: 'revoke', role: 'cli', before: { revoked_at: null } }], 'the revocation is audited')

  // The app verified the key less than 4 s ago: it refuses the key once its cache runs out.
  const start = Date.now()
  let status = 200
  while (status !== 401 && Date.now() - start < 6000) {
    status = (await app.inject({ url: '/v1/mous', headers: asEditor })).statusCode
    if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 200))
  }
  t.equal(status, 401, 'the running server refuses the revoked key within 5 seconds')

  const again = await keys(dbUrl, 'revoke', created.id)
  t.equal(again.code, 0)
  t.match(again.stderr, /already revoked/)
  t.equal(JSON.parse(again.stdout).revoked_at, JSON.parse(revoked.stdout).revoked_at, 'the first revocation time stays')
  const unknown = await keys(dbUrl, 'revoke', '0b7e3a52-52f4-4c57-9a53-1f6f0d3b8f11')
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, /API key 0b7e3a52-52f4-4c57-9a53-1f6f0d3b8f11 does not exist/)
})

t.test('with DATABASE_URL unset it works on the private cluster', { skip: process.env.DATABASE_URL ? 'this run uses DATABASE_URL' : false }, async (t) => {
  const run = await keys(undefined, 'list')
  t.equal(run.code, 0, run.stderr)
  t.doesNotThrow(() => jsonLines(run.stdout), 'stdout holds JSON lines only')
})
