// Idempotency-Key on POST: a retried write answers what the first one answered and writes nothing more, also when the
// retries arrive together; a key is bound to one request and to the API key that sent it, and kept 24 hours.
import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { FastifyInstance, InjectOptions } from 'fastify'
import t from 'tap'
import type { Db } from '../../src/db/client.js'
import { buildTestApp, keyFor } from '../helpers/app.js'
import { conformanceOf } from '../helpers/conformance.js'
import { insertVerifiedProvider } from '../helpers/factories.js'

const provider = (name: string) => ({ name, kind: 'ngo', categories: ['health'], location: { lat: 23.12, lon: 89.21 } })

const post = (key: string | undefined, payload: object, extra: Record<string, string> = {}): InjectOptions => ({
  method: 'POST',
  url: '/v1/providers',
  payload,
  headers: { ...(key === undefined ? {} : { 'idempotency-key': key }), ...extra },
})

const count = async (db: Db, query = sql`SELECT count(*)::int AS n FROM providers`) =>
  (await db.execute<{ n: number }>(query)).rows[0].n
const keyRows = (db: Db) => db.execute<{ key: string; status: number | null }>(sql`SELECT key, status FROM idempotency_keys ORDER BY created_at`)

/** What a client sees of an answer: status, body and the headers a replay repeats. */
const seen = (res: Awaited<ReturnType<FastifyInstance['inject']>>) => ({
  status: res.statusCode,
  body: res.body,
  type: res.headers['content-type'],
  location: res.headers.location,
  etag: res.headers.etag,
})

t.test('a repeated POST with the same key answers the first answer again and creates nothing', async (t) => {
  const { app, db } = await buildTestApp(t)
  const key = randomUUID()
  const first = await app.inject(post(key, provider('Retry Clinic')))
  t.equal(first.statusCode, 201)
  t.notOk(first.headers['idempotent-replayed'], 'the first answer is not a replay')
  t.match(first.headers.location, /^\/v1\/providers\/[0-9a-f-]{36}$/)

  const again = await app.inject(post(key, provider('Retry Clinic')))
  t.same(seen(again), seen(first), 'the same status, body, content type, Location and ETag')
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.not(again.headers['x-request-id'], first.headers['x-request-id'], 'the replay is a request of its own')
  t.equal(await count(db), 1, 'one provider')
  t.same((await keyRows(db)).rows, [{ key, status: 201 }], 'one stored answer')

  const without = await app.inject(post(undefined, provider('Retry Clinic')))
  t.equal(without.statusCode, 201, 'without a key the same body is a new write')
  t.equal(await count(db), 2)
})

t.test('ten identical POSTs at once make one provider and get one answer', async (t) => {
  const { app, db } = await buildTestApp(t)
  const key = randomUUID()
  const answers = await Promise.all(Array.from({ length: 10 }, () => app.inject(post(key, provider('Burst Shelter')))))
  t.same(new Set(answers.map((a) => JSON.stringify(seen(a)))).size, 1, 'all ten answers are identical')
  t.equal(answers[0].statusCode, 201)
  t.equal(answers.filter((a) => a.headers['idempotent-replayed'] === 'true').length, 9, 'nine of them replays')
  t.equal(await count(db), 1, 'exactly one provider')
  t.equal((await keyRows(db)).rows.length, 1)
})

t.test('the same key with another request is a 422 and writes nothing', async (t) => {
  const { app, db } = await buildTestApp(t)
  const key = randomUUID()
  t.equal((await app.inject(post(key, provider('First Body')))).statusCode, 201)
  for (const [what, request] of [
    ['another body', post(key, provider('Second Body'))],
    ['another path', { method: 'POST', url: '/v1/providers/bulk', payload: { providers: [provider('First Body')] }, headers: { 'idempotency-key': key } }],
  ] as const) {
    const res = await app.inject(request as InjectOptions)
    t.equal(res.statusCode, 422, what)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.match(res.json(), { type: 'urn:setu:problem:idempotency-key-reused', status: 422, request_id: res.headers['x-request-id'] })
  }
  t.equal(await count(db), 1, 'only the first provider')
  t.equal(await count(db, sql`SELECT count(*)::int AS n FROM providers WHERE name = 'Second Body'`), 0)
})

t.test('keys are scoped to the API key that sent them', async (t) => {
  const { app, db } = await buildTestApp(t)
  const other = await keyFor(db, 'admin', { organisation: 'Second Partner' })
  const key = 'order-2024-0001'
  const mine = await app.inject(post(key, provider('Scoped Clinic')))
  const theirs = await app.inject(post(key, provider('Scoped Clinic'), { authorization: other.authorization }))
  t.equal(mine.statusCode, 201)
  t.equal(theirs.statusCode, 201)
  t.notOk(theirs.headers['idempotent-replayed'], 'not a replay of another key’s request')
  t.not(theirs.json().id, mine.json().id, 'a record of its own')
  t.equal(await count(db), 2)
  const replay = await app.inject(post(key, provider('Scoped Clinic'), { authorization: other.authorization }))
  t.equal(replay.json().id, theirs.json().id, 'and each key replays its own')
})

t.test('a 4xx answer is stored and replayed; a 5xx is not, so the retry runs again', async (t) => {
  const { app, db } = await buildTestApp(t)
  const a = await insertVerifiedProvider(db, { categories: ['health'], lat: 23, lon: 90 })
  const selfLink = { from_provider_id: a, to_provider_id: a, categories: ['health'], basis: 'informal' }
  const key = randomUUID()
  const request: InjectOptions = { method: 'POST', url: '/v1/referral-links', payload: selfLink, headers: { 'idempotency-key': key } }
  const refused = await app.inject(request)
  t.equal(refused.statusCode, 422)
  const replayed = await app.inject(request)
  t.same(seen(replayed), seen(refused), 'the same problem, its request_id included')
  t.equal(replayed.json().request_id, refused.headers['x-request-id'], 'which names the first request')
  t.equal(replayed.headers['idempotent-replayed'], 'true')

  // A real failure: the column every provider write needs is gone.
  const failing = randomUUID()
  await db.execute(sql`ALTER TABLE providers RENAME COLUMN location TO location_moved`)
  const conformance = conformanceOf(app)
  conformance.throwOnViolation = false
  const broken = await app.inject(post(failing, provider('After The Fix')))
  conformance.throwOnViolation = true
  t.equal(broken.statusCode, 500)
  t.same(conformance.take().map((v) => v.status), [500], 'a 500 is a bug, so undocumented')
  t.equal(await count(db, sql`SELECT count(*)::int AS n FROM idempotency_keys WHERE key = ${failing}`), 0, 'the claim is given back')
  await db.execute(sql`ALTER TABLE providers RENAME COLUMN location_moved TO location`)
  const fixed = await app.inject(post(failing, provider('After The Fix')))
  t.equal(fixed.statusCode, 201, 'the retry runs the write')
  t.notOk(fixed.headers['idempotent-replayed'])
})

t.test('a repeat waits for the first request’s answer, and an abandoned claim is taken over', async (t) => {
  const { app, db } = await buildTestApp(t)
  const key = randomUUID()
  const first = await app.inject(post(key, provider('Slow Clinic')))
  t.equal(first.statusCode, 201)

  // The stored answer made to look like a first request still running: the repeat waits for its answer.
  await db.execute(sql`UPDATE idempotency_keys SET status = NULL, body = NULL, headers = NULL WHERE key = ${key}`)
  const waiting = app.inject(post(key, provider('Slow Clinic')))
  await new Promise((resolve) => setTimeout(resolve, 300))
  await db.execute(sql`
    UPDATE idempotency_keys SET status = 201, body = ${first.body},
      headers = ${JSON.stringify({ 'content-type': first.headers['content-type'], location: first.headers.location, etag: first.headers.etag })}::jsonb
    WHERE key = ${key}`)
  const answered = await waiting
  t.same(seen(answered), seen(first), 'the waiting repeat answers once the first answer is stored')
  t.equal(answered.headers['idempotent-replayed'], 'true')

  // A claim whose process died before answering: after a minute the same request may run again. This is the window
  // the module's comments own up to: the first write had been made, so it is made twice.
  await db.execute(sql`UPDATE idempotency_keys SET status = NULL, body = NULL, headers = NULL, created_at = now() - interval '2 minutes' WHERE key = ${key}`)
  const retaken = await app.inject(post(key, provider('Slow Clinic')))
  t.equal(retaken.statusCode, 201)
  t.notOk(retaken.headers['idempotent-replayed'])
  t.same((await keyRows(db)).rows, [{ key, status: 201 }])
})

t.test('answers are kept 24 hours; older keys no longer replay', async (t) => {
  const { app, db } = await buildTestApp(t)
  const key = randomUUID()
  const first = await app.inject(post(key, provider('Yesterday Clinic')))
  t.equal(first.statusCode, 201)
  await db.execute(sql`UPDATE idempotency_keys SET created_at = now() - interval '23 hours' WHERE key = ${key}`)
  t.equal((await app.inject(post(key, provider('Yesterday Clinic')))).headers['idempotent-replayed'], 'true', 'replayed at 23 hours')

  await db.execute(sql`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = ${key}`)
  const later = await app.inject(post(key, provider('Yesterday Clinic')))
  t.equal(later.statusCode, 201)
  t.notOk(later.headers['idempotent-replayed'], 'not replayed at 25 hours')
  t.not(later.json().id, first.json().id, 'a new record')
  t.equal(await count(db), 2)

})

t.test('keys older than 24 hours are purged by a later claim', async (t) => {
  const { app, db } = await buildTestApp(t)
  const stale = randomUUID()
  await db.execute(sql`
    INSERT INTO idempotency_keys (api_key_id, key, request_hash, status, body, created_at)
    SELECT id, ${stale}, 'x', 201, '{}', now() - interval '25 hours' FROM api_keys LIMIT 1`)
  // This app's first claim purges (then at most once a minute), without making the request wait for it.
  t.equal((await app.inject(post(randomUUID(), provider('Purging Clinic')))).statusCode, 201)
  const staleLeft = () => count(db, sql`SELECT count(*)::int AS n FROM idempotency_keys WHERE key = ${stale}`)
  for (let i = 0; i < 50 && (await staleLeft()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(await staleLeft(), 0, 'the 25-hour-old key is gone')
  t.equal((await keyRows(db)).rows.length, 1, 'the new one stays')
})

t.test('a malformed key is a 400 and claims nothing', async (t) => {
  const { app, db } = await buildTestApp(t)
  for (const bad of ['with space', 'x'.repeat(256), 'tab\there', 'ünïcode']) {
    const res = await app.inject(post(bad, provider('Bad Key Clinic')))
    t.equal(res.statusCode, 400, JSON.stringify(bad.slice(0, 20)))
    t.match(res.json(), { type: 'urn:setu:problem:validation', errors: [{ path: 'idempotency-key' }] })
  }
  t.equal(await count(db), 0)
  t.equal((await keyRows(db)).rows.length, 0)
  t.equal((await app.inject(post('x'.repeat(255), provider('Long Key Clinic')))).statusCode, 201, '255 characters are fine')
})

// POST /v1/keys alone leaves the header out: its answer holds the new key's secret, which is never stored.
const NOT_REPLAYED = ['/v1/keys']

t.test('every POST documents Idempotency-Key and its 409 and 422 answers', async (t) => {
  const { app } = await buildTestApp(t)
  const doc = (await app.inject({ url: '/openapi.json' })).json() as {
    paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; responses: Record<string, unknown> }>>
  }
  const posts = Object.entries(doc.paths).flatMap(([path, item]) => (item.post ? [[path, item.post] as const] : []))
  t.ok(posts.length >= 4, `${posts.length} POST operations`)
  for (const [path, op] of posts) {
    const documented = op.parameters?.some((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key') ?? false
    if (NOT_REPLAYED.includes(path)) {
      t.notOk(documented, `POST ${path}: does not offer the header`)
      continue
    }
    t.ok(documented, `POST ${path}: the header`)
    t.ok(op.responses['409'] && op.responses['422'], `POST ${path}: 409 and 422`)
  }
})
