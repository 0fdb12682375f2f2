// From an Authorization header to a Caller, without a database round trip on most requests: verified keys (and
// unknown ones) are remembered for KEY_CACHE_MS, so a revoked key stops working within that time on every process.
import { sql } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { Problem } from '../../lib/problem.js'
import { hashKey, KEY_PATTERN } from './keys.js'
import { ANONYMOUS, type Caller, type KeyCaller, type Role } from './roles.js'

/** How long a key's verification is trusted: a revocation reaches every process within this (the issue asks 5 s). */
export const KEY_CACHE_MS = 4000
/** Past this many cached keys the cache starts again, so a stream of made-up keys cannot grow it without end. */
const MAX_CACHED = 10_000

export const UNAUTHORIZED = 'urn:setu:problem:unauthorized'
export const FORBIDDEN = 'urn:setu:problem:forbidden'

export const unauthorized = (detail: string) =>
  new Problem(401, 'Unauthorized', detail, {
    type: UNAUTHORIZED,
    headers: { 'www-authenticate': 'Bearer realm="setu"' },
  })

export const forbidden = (detail: string) => new Problem(403, 'Forbidden', detail, { type: FORBIDDEN })

const BEARER = /^Bearer +(\S+) *$/i

type KeyRow = {
  id: string
  prefix: string
  organisation_id: string
  organisation: string
  role: Role
  areas: string[] | null
  revoked: boolean
}

/**
 * The key with this hash, and, when it is in use and was last marked used over a minute ago, marks it used now:
 * one statement, run once per key per KEY_CACHE_MS per process.
 */
const lookup = (hash: Buffer) => sql`
  WITH k AS (
    SELECT k.id, k.prefix, k.organisation_id, o.name AS organisation, k.role, k.limited_to_areas AS areas,
           k.revoked_at IS NOT NULL AS revoked, k.last_used_at
    FROM api_keys k JOIN organisations o ON o.id = k.organisation_id
    WHERE k.key_hash = ${hash}),
  used AS (
    UPDATE api_keys SET last_used_at = now()
    WHERE id IN (SELECT id FROM k WHERE NOT revoked AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))
    RETURNING id)
  SELECT id, prefix, organisation_id, organisation, role, areas, revoked FROM k`

export function keyAuthenticator(db: Executor, { cacheMs = KEY_CACHE_MS, now = Date.now } = {}) {
  const cache = new Map<string, { caller: KeyCaller | null; until: number }>()

  async function verify(key: string): Promise<KeyCaller | null> {
    const hash = hashKey(key)
    const id = hash.toString('base64')
    const hit = cache.get(id)
    if (hit && hit.until > now()) return hit.caller
    const { rows } = await db.execute<KeyRow & Record<string, unknown>>(lookup(hash))
    const row = rows[0]
    const caller: KeyCaller | null =
      row && !row.revoked
        ? {
            kind: 'key',
            keyId: row.id,
            keyPrefix: row.prefix,
            organisationId: row.organisation_id,
            organisation: row.organisation,
            role: row.role,
            areas: row.areas,
          }
        : null
    if (cache.size >= MAX_CACHED) cache.clear()
    cache.set(id, { caller, until: now() + cacheMs })
    return caller
  }

  /** The key in an Authorization header, or a 401 problem when the header is not "Bearer <a setu key>". */
  function tokenOf(authorization: string): string {
    const token = BEARER.exec(authorization)?.[1]
    if (!token) throw unauthorized('Authorization must be "Bearer <API key>"')
    if (!KEY_PATTERN.test(token)) throw unauthorized('The API key is not valid')
    return token
  }

  const refused = () => unauthorized('The API key is unknown or has been revoked')

  return {
    /** The caller behind an Authorization header: anonymous without one; a 401 problem for a bad, unknown or revoked key. */
    async authenticate(authorization: string | undefined): Promise<Caller> {
      if (authorization === undefined || authorization === '') return ANONYMOUS
      const caller = await verify(tokenOf(authorization))
      if (!caller) throw refused()
      return caller
    },

    /**
     * What is known about an Authorization header without asking the database: the caller (anonymous, or a key
     * verified within the cache time), a 401 problem (malformed, or known to be unknown or revoked), or undefined
     * when the key must be looked up. Lets a rate limit count a request before any lookup is made for it.
     */
    known(authorization: string | undefined): Caller | Problem | undefined {
      if (authorization === undefined || authorization === '') return ANONYMOUS
      let token: string
      try {
        token = tokenOf(authorization)
      } catch (problem) {
        return problem as Problem
      }
      const hit = cache.get(hashKey(token).toString('base64'))
      if (!hit || hit.until <= now()) return undefined
      return hit.caller ?? refused()
    },

    /** Forgets every verification, e.g. right after this process revoked a key. */
    forget() {
      cache.clear()
    },
  }
}
export type KeyAuthenticator = ReturnType<typeof keyAuthenticator>
