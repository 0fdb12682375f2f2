import { buildApp } from './app.js'
import { createDb } from './db/client.js'

/** The OpenAPI document of the app, built without touching a database (the pool never connects). */
export async function buildOpenapiDocument(): Promise<object> {
  const db = createDb('postgresql://unused@127.0.0.1:1/unused', { max: 1 })
  const app = await buildApp({ LOG_LEVEL: 'silent', BODY_LIMIT_BYTES: 1, RATE_LIMIT_PER_MINUTE: 0 }, { db })
  try {
    await app.ready()
    return app.swagger() as object
  } finally {
    await app.close()
    await db.$client.end()
  }
}
