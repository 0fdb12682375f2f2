import type { FastifyInstance, InjectOptions } from 'fastify'
import { buildApp, type AppConfig } from '../../src/app.js'
import type { Db } from '../../src/db/client.js'
import { DEMO_ORGANISATION_ID, keysRepo } from '../../src/modules/access/keys.js'
import type { Role } from '../../src/modules/access/roles.js'
import { withConformance } from './conformance.js'
import { createTestDatabase, type TestDatabaseOptions } from './db.js'

export const testConfig: AppConfig = {
  LOG_LEVEL: 'silent',
  BODY_LIMIT_BYTES: 10 * 1024 * 1024,
  RATE_LIMIT_PER_MINUTE: 0,
  LINK_AT_RISK_DAYS: 60,
  VERIFICATION_STALE_MONTHS: 12,
}

interface Teardown {
  teardown(fn: () => unknown): void
}

export interface TestAppOptions extends TestDatabaseOptions {
  /**
   * The key every app.inject sends when the request names no Authorization header itself: an admin key of the
   * built-in organisation (the default, so that tests of other concerns see everything and may write everything),
   * or none, so that requests are anonymous unless they carry a key.
   */
  auth?: 'admin' | 'none'
}

/** Creates an API key in db (and its organisation when new) and answers the Authorization header for it. */
export async function keyFor(
  db: Db,
  role: Role,
  { organisation, areas }: { organisation?: string; areas?: string[] } = {},
): Promise<{ id: string; key: string; organisationId: string; authorization: string }> {
  const repo = keysRepo(db)
  const organisationId = organisation ? (await repo.ensureOrganisation(organisation)).id : DEMO_ORGANISATION_ID
  const created = await repo.createKey({ organisationId, role, areas })
  return { id: created.id, key: created.key, organisationId, authorization: `Bearer ${created.key}` }
}

/**
 * The production app over a fresh, migrated database of its own; both are removed when the test ends.
 * Every response received through app.inject is checked against /openapi.json (see conformance.ts).
 */
export async function buildTestApp(
  t: Teardown,
  config: Partial<AppConfig> = {},
  { auth = 'admin', ...options }: TestAppOptions = {},
): Promise<{ app: FastifyInstance; db: Db; dbUrl: string; adminAuthorization: string }> {
  const database = await createTestDatabase(options)
  const app = await withConformance(() => buildApp({ ...testConfig, ...config }, { db: database.db }))
  t.teardown(async () => {
    await app.close()
    await database.drop()
  })
  const admin = await keyFor(database.db, 'admin')
  if (auth === 'admin') withDefaultAuthorization(app, admin.authorization)
  return { app, db: database.db, dbUrl: database.url, adminAuthorization: admin.authorization }
}

/** Makes app.inject send `authorization` whenever a request does not name an Authorization header of its own. */
function withDefaultAuthorization(app: FastifyInstance, authorization: string) {
  const inject = app.inject.bind(app) as (opts: InjectOptions | string) => ReturnType<FastifyInstance['inject']>
  ;(app as { inject: unknown }).inject = (opts: InjectOptions | string) => {
    const options: InjectOptions = typeof opts === 'string' ? { url: opts } : opts
    const headers = (options.headers ?? {}) as Record<string, unknown>
    const named = Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')
    return inject(named ? options : { ...options, headers: { ...headers, authorization } })
  }
}
