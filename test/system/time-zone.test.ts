// TIME_ZONE decides which calendar day "today" is for expiry, funding and verification, whatever the
// database server's own time zone. Two zones 25 hours apart never share a date, so the test holds at any hour.
import { sql } from 'drizzle-orm'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createDb, type Db } from '../../src/db/client.js'
import { keyFor, testConfig } from '../helpers/app.js'
import { closePool, createTestDatabase } from '../helpers/db.js'
import { insertMou, insertVerifiedProvider } from '../helpers/factories.js'

const WEST = 'Pacific/Pago_Pago' // UTC-11
const EAST = 'Pacific/Kiritimati' // UTC+14

const today = async (db: Db) => (await db.execute<{ d: string }>(sql`SELECT setu_today()::text AS d`)).rows[0].d

t.test('an MOU expiring today in one zone has already expired in a zone a day ahead', async (t) => {
  const database = await createTestDatabase()
  // No fixed today here, not even under SETU_TEST_TODAY: the two zones' own calendars are what is tested.
  const west = createDb(database.url, { max: 2, timeZone: WEST })
  const east = createDb(database.url, { max: 2, timeZone: EAST })
  const apps = { west: await buildApp(testConfig, { db: west }), east: await buildApp(testConfig, { db: east }) }
  t.teardown(async () => {
    await apps.west.close()
    await apps.east.close()
    await closePool(west)
    await closePool(east)
    await database.drop()
  })

  const westToday = await today(west)
  const eastToday = await today(east)
  t.ok(eastToday > westToday, `the dates differ: ${westToday} in ${WEST}, ${eastToday} in ${EAST}`)

  const provider = await insertVerifiedProvider(west, { categories: ['shelter'], lat: 11.55, lon: 104.92 })
  const mou = await insertMou(west, { provider_id: provider, categories: ['shelter'], expires_on: westToday })

  // MOUs are for API keys; both apps read the one database, so one key serves both.
  const headers = { authorization: (await keyFor(west, 'viewer')).authorization }
  const read = async (app: typeof apps.west) => (await app.inject({ url: `/v1/mous/${mou}`, headers })).json()
  t.equal((await read(apps.west)).status, 'signed', `on its last day in ${WEST} the MOU is still signed`)
  t.equal((await read(apps.east)).status, 'expired', `in ${EAST} that day is over`)
  const status = async (app: typeof apps.west) => (await app.inject({ url: `/v1/providers/${provider}`, headers })).json().mou_status
  t.same(await status(apps.west), { shelter: 'signed' })
  t.same(await status(apps.east), { shelter: 'expired' })
})

t.test('TIME_ZONE defaults to UTC and refuses names that are not time zones', async (t) => {
  t.equal(loadConfig({}).TIME_ZONE, 'UTC')
  t.equal(loadConfig({ TIME_ZONE: 'Asia/Dhaka' }).TIME_ZONE, 'Asia/Dhaka')
  t.throws(() => loadConfig({ TIME_ZONE: 'Asia/Chittagong-ish' }), /IANA time zone[\s\S]*at TIME_ZONE/)
})
