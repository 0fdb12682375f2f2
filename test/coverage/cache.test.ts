// The coverage cache against the data_writes journal (migrations/0007): a kept answer holds until a transaction
// that wrote providers, MOUs or areas commits, whatever else is written meanwhile and whoever writes; writes still
// open, rolled back or undone by a savepoint change nothing; the journal prunes only what no kept answer can need,
// and an answer older than the journal's window is computed again.
import { sql } from 'drizzle-orm'
import t, { type Test } from 'tap'
import { coverageService, JOURNAL_WINDOW_MS } from '../../src/modules/coverage/service.js'
import { CoverageQuery, type CoverageFormat } from '../../src/modules/coverage/schemas.js'
import { buildTestApp } from '../helpers/app.js'
import { insertArea, insertProvider, type AreaSeed } from '../helpers/factories.js'

const AREAS: AreaSeed[] = [
  { pcode: 'BD40', name_en: 'Khulna', name_local: 'খুলনা বিভাগ', country: 'BGD', admin_level: 1, bbox: [88.5, 21.5, 90, 24] },
  { pcode: 'BD4041', name_en: 'Jessore', name_local: 'যশোর', country: 'BGD', admin_level: 2, parent_pcode: 'BD40', bbox: [88.9, 22.8, 89.5, 23.4] },
]
const q = CoverageQuery.parse({ country: 'BGD', admin_level: '2' })
const viewer = { exact: 'all' } as const

async function setup(t: Test, now?: () => number) {
  const { db } = await buildTestApp(t)
  for (const a of AREAS) await insertArea(db, a)
  const service = coverageService(db, { staleMonths: 12, ...(now ? { now } : {}) })
  // A second connection, for transactions left open while the service answers.
  const other = await db.$client.connect()
  t.teardown(() => other.release())
  const legal = async () => (await service.coverage(q, viewer)).items[0].categories.legal!.active
  return { db, service, other, legal }
}

t.test('a write elsewhere keeps the answer; a provider write counts once it commits, not before', async (t) => {
  const { db, service, other, legal } = await setup(t)
  await insertProvider(db, { lat: 23.1, lon: 89.2, categories: ['legal'], status: 'closed' })
  const first = await service.coverage(q, viewer)
  t.equal(first.items[0].categories.legal!.active, 0)

  await db.execute(sql`UPDATE organisations SET name = name`)
  t.equal(await service.coverage(q, viewer), first, 'an organisation written: the same answer, not computed again')

  await other.query('BEGIN')
  await other.query(`UPDATE providers SET status = 'active'`)
  t.equal(await service.coverage(q, viewer), first, 'a provider written in a transaction still open: the kept answer')
  await other.query('COMMIT')
  t.equal(await legal(), 1, 'committed: computed again, with the provider active')
  const second = await service.coverage(q, viewer)
  t.equal(await service.coverage(q, viewer), second, 'then kept again')

  // A transaction open when the answer was computed, committed after: in the old snapshot's in-progress list.
  await other.query('BEGIN')
  await other.query(`UPDATE providers SET status = 'closed'`)
  const during = await service.coverage(q, viewer)
  t.equal(during.items[0].categories.legal!.active, 1, 'not yet committed: still active')
  await other.query('COMMIT')
  t.equal(await legal(), 0, 'the transaction that was in progress is seen once committed')
})

t.test('rolled back, or undone by a savepoint: the answer is kept', async (t) => {
  const { db, service, other, legal } = await setup(t)
  await insertProvider(db, { lat: 23.1, lon: 89.2, categories: ['legal'] })
  const first = await service.coverage(q, viewer)
  t.equal(first.items[0].categories.legal!.active, 1)

  await other.query('BEGIN')
  await other.query(`UPDATE providers SET status = 'closed'`)
  await other.query('ROLLBACK')
  t.equal(await service.coverage(q, viewer), first, 'rolled back: kept')

  await other.query('BEGIN')
  await other.query('SAVEPOINT s')
  await other.query(`UPDATE providers SET status = 'closed'`)
  await other.query('ROLLBACK TO SAVEPOINT s')
  await other.query(`UPDATE organisations SET name = name`)
  await other.query('COMMIT')
  t.equal(await service.coverage(q, viewer), first, 'the provider write undone by its savepoint: kept')

  // The journal row written before a savepoint survives the savepoint's rollback.
  await other.query('BEGIN')
  await other.query(`UPDATE providers SET status = 'suspended'`)
  await other.query('SAVEPOINT s')
  await other.query(`UPDATE providers SET status = 'closed'`)
  await other.query('ROLLBACK TO SAVEPOINT s')
  await other.query('COMMIT')
  t.equal(await legal(), 0, 'a provider write outside the savepoint counts')
})

t.test('MOUs, areas and TRUNCATE are journalled too', async (t) => {
  const { db } = await setup(t)
  const writers = async (statement: string) => {
    const before = (await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM data_writes`)).rows[0].n
    await db.execute(sql.raw(statement))
    return (await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM data_writes`)).rows[0].n - before
  }
  t.equal(await writers(`UPDATE areas SET name_en = name_en WHERE pcode = 'BD4041'`), 1, 'an area update')
  t.equal(await writers(`DELETE FROM mous WHERE false`), 1, 'an MOU statement (even one that changes no row)')
  t.equal(await writers(`TRUNCATE mous CASCADE`), 1, 'a TRUNCATE')
  t.equal(await writers(`UPDATE organisations SET name = name`), 0, 'organisations: not read by coverage, not journalled')
  t.equal(await writers(`BEGIN; UPDATE areas SET name_en = name_en; UPDATE areas SET name_en = name_en; COMMIT`), 1, 'one row per transaction')
})

t.test('the text answers (JSON, CSV, GeoJSON) follow the same rule', async (t) => {
  const { db, service } = await setup(t)
  for (const format of ['json', 'csv', 'geojson'] as CoverageFormat[]) {
    const first = await service.coverageText(q, viewer, format)
    await db.execute(sql`UPDATE organisations SET name = name`)
    t.equal(await service.coverageText(q, viewer, format), first, `${format}: kept after a write elsewhere`)
    await db.execute(sql`UPDATE areas SET name_en = 'Jashore' WHERE pcode = 'BD4041'`)
    const renamed = await service.coverageText(q, viewer, format)
    t.match(renamed, /Jashore/, `${format}: an area write shows at once`)
    await db.execute(sql`UPDATE areas SET name_en = 'Jessore' WHERE pcode = 'BD4041'`)
    t.match(await service.coverageText(q, viewer, format), /Jessore/)
  }
})

t.test('an answer whose snapshot is older than the journal window is computed again', async (t) => {
  let clock = Date.parse('2026-11-30T08:00:00Z')
  const { service } = await setup(t, () => clock)
  const first = await service.coverage(q, viewer)
  clock += JOURNAL_WINDOW_MS - 1000
  t.equal(await service.coverage(q, viewer), first, 'inside the window: kept (and confirmed for another window)')
  clock += JOURNAL_WINDOW_MS - 1000
  t.equal(await service.coverage(q, viewer), first, 'each confirmation starts the window again')
  clock += JOURNAL_WINDOW_MS
  const later = await service.coverage(q, viewer)
  t.not(later, first, 'not confirmed for a whole window: computed again')
  t.same(later, first, 'to the same content')
})

t.test('pruning removes only transactions that ended before a horizon a day old', async (t) => {
  const { db } = await setup(t)
  const rows = async () => (await db.execute<{ xid: string }>(sql`SELECT xid::text FROM data_writes ORDER BY xid`)).rows.map((r) => BigInt(r.xid))
  const horizon = async () =>
    (await db.execute<{ xmin: string; fresh: boolean }>(sql`SELECT snapshot_xmin::text AS xmin, taken_at > now() - interval '1 minute' AS fresh FROM data_writes_horizon`)).rows[0]

  await db.execute(sql`UPDATE areas SET name_en = name_en`)
  const old = await rows()
  t.ok(old.length > 0, 'writes journalled')
  // A horizon taken after those writes had ended, but less than a day ago: nothing is pruned. (Set by hand: the
  // snapshot's xmin now may be lower, held back by other tests' open transactions in the same cluster.)
  await db.execute(sql`UPDATE data_writes_horizon
    SET snapshot_xmin = ((SELECT max(xid)::text::bigint FROM data_writes) + 1)::text::xid8, taken_at = now() - interval '23 hours'`)
  await db.execute(sql`UPDATE areas SET name_en = name_en`)
  const all = await rows()
  await db.execute(sql`SELECT prune_data_writes()`)
  t.same(await rows(), all, 'a horizon younger than a day: nothing pruned')

  await db.execute(sql`UPDATE data_writes_horizon SET taken_at = now() - interval '25 hours'`)
  const cut = BigInt((await horizon()).xmin)
  await db.execute(sql`SELECT prune_data_writes()`)
  const kept = await rows()
  t.same(kept, all.filter((x) => x >= cut), 'rows below the horizon pruned, the later ones kept')
  t.ok(kept.length > 0 && kept.length < all.length, `${all.length - kept.length} pruned, ${kept.length} kept`)
  const next = await horizon()
  t.ok(next.fresh, 'a new horizon taken now')

  // A writer that finds the horizon locked by another does not wait for it, and leaves the pruning to that one.
  const other = await db.$client.connect()
  const me = await db.$client.connect()
  t.teardown(() => {
    other.release()
    me.release()
  })
  await db.execute(sql`UPDATE data_writes_horizon SET taken_at = now() - interval '25 hours'`)
  const before = await rows()
  await other.query('BEGIN')
  await other.query('SELECT * FROM data_writes_horizon FOR UPDATE')
  await me.query(`SET lock_timeout = '2s'`)
  await me.query('SELECT prune_data_writes()')
  await other.query('ROLLBACK')
  t.same(await rows(), before, 'the horizon locked elsewhere: nothing pruned, no wait')
  t.notOk((await horizon()).fresh, 'and the horizon is left to the one that holds it')
})
