import type { FastifyInstance } from 'fastify'
import { buildApp, type AppConfig } from '../../src/app.js'
import type { Db } from '../../src/db/client.js'
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

/**
 * The production app over a fresh, migrated database of its own; both are removed when the test ends.
 * Every response received through app.inject is checked against /openapi.json (see conformance.ts).
 */
export async function buildTestApp(t: Teardown, config: Partial<AppConfig> = {}, options: TestDatabaseOptions = {}): Promise<{ app: FastifyInstance; db: Db; dbUrl: string }> {
  const database = await createTestDatabase(options)
  const app = await withConformance(() => buildApp({ ...testConfig, ...config }, { db: database.db }))
  t.teardown(async () => {
    await app.close()
    await database.drop()
  })
  return { app, db: database.db, dbUrl: database.url }
}
