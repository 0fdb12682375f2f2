// The real server process, as `npm start` runs it: migrations, demo data, listening, clean shutdown.
import t from 'tap'
import { createTestDatabase, serverUrl } from '../helpers/db.js'
import { freePort, startServer } from '../helpers/server.js'

t.test('the server migrates an empty database, loads the demo data, serves, and stops on SIGTERM', async (t) => {
  const database = await createTestDatabase()
  t.teardown(() => database.drop())
  // A brand-new database, not the migrated template: the server must migrate it itself.
  await database.db.$client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public; DROP SCHEMA IF EXISTS drizzle CASCADE')
  const port = await freePort()
  const server = startServer({ DATABASE_URL: database.url, PORT: String(port), HOST: '127.0.0.1' })
  t.teardown(() => server.child.kill('SIGKILL'))
  await server.listening

  const health = await fetch(`http://127.0.0.1:${port}/healthz`)
  t.equal(health.status, 200)
  const areas = await database.db.$client.query<{ n: number }>('SELECT count(*)::int AS n FROM areas')
  const providers = await database.db.$client.query<{ n: number }>('SELECT count(*)::int AS n FROM providers')
  t.ok(areas.rows[0].n > 0, `demo areas loaded (${areas.rows[0].n})`)
  t.ok(providers.rows[0].n > 0, `demo providers loaded (${providers.rows[0].n})`)
  const docs = await fetch(`http://127.0.0.1:${port}/docs/`)
  t.equal(docs.status, 200)

  server.child.kill('SIGTERM')
  const [code] = await server.exited
  t.equal(code, 0, 'exits cleanly on SIGTERM')
})

t.test('an unreachable DATABASE_URL stops the server at once with a clear message', async (t) => {
  const port = await freePort()
  const server = startServer({ DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none', PORT: String(port) })
  const [code] = await server.exited
  t.equal(code, 1)
  t.match(server.output(), /\[setu\] could not start: .*ECONNREFUSED/)
})

t.test('an invalid environment is refused before anything starts', async (t) => {
  const server = startServer({ PORT: 'not-a-port', DATABASE_URL: serverUrl('postgres') })
  const [code] = await server.exited
  t.equal(code, 1)
  t.match(server.output(), /Invalid environment:[\s\S]*PORT/)
})
