// Idempotency-Key on every POST, so that a partner on a poor connection can retry a write without making it twice.
// The key is scoped to the API key that sent it. The first request with a key claims it (a row in
// idempotency_keys with no status yet), runs, and its answer is stored when it is sent; a repeat of the same
// request (method, path and body) with the same key answers the stored status, body and Content-Type, Location
// and ETag again, marked Idempotent-Replayed: true, and writes nothing. Repeats that arrive while the first is
// still running wait for its answer. The same key with another request is a 422.
import { createHash } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { Db } from '../db/client.js'
import { Problem, problemResponses } from './problem.js'

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key'
export const REPLAYED_HEADER = 'idempotent-replayed'

/** Answers are kept, and replayed, at least this long; older ones are purged. */
export const KEEP_HOURS = 24
/**
 * A claim still without an answer after this long is taken to be abandoned (its process died between claiming and
 * answering) and the same request may claim it again. Far beyond any request's run time (STATEMENT_TIMEOUT_MS bounds
 * each statement to 10 s by default), so a slow first request is not run twice.
 */
export const ABANDONED_AFTER_S = 60
/** How long a repeat waits for the first request's answer before it gives up with a 409. */
export const WAIT_MS = 10_000
/** The oldest answers are purged by some request at most this often, per process. */
const PURGE_EVERY_MS = 60_000
/** What a replay repeats besides status and body: the rest (request id, rate limit, CORS) belongs to the new request. */
const REPLAYED_HEADERS = ['content-type', 'location', 'etag'] as const

// RFC 9110 field values without spaces; a UUID is the usual choice.
const KEY = /^[\x21-\x7e]{1,255}$/

export const IdempotencyKeyHeader = z
  .string()
  .regex(KEY, 'must be 1 to 255 visible ASCII characters, without spaces')
  .optional()
  .meta({
    description:
      'Makes this POST safe to retry: send a new unique value (a UUID) for each write you mean to make, and the same ' +
      'value when you retry it. A repeat with the same key, from the same API key, of the same request (method, path ' +
      'and body) writes nothing and answers the first request’s status, body, Location and ETag again, with the ' +
      `header Idempotent-Replayed: true. Reusing a key for a different request is a 422. A repeat that arrives while the ` +
      `first is still being processed waits for its answer, and is a 409 (with Retry-After) after ${WAIT_MS / 1000} s. ` +
      `Keys are remembered for ${KEEP_HOURS} hours. Answers with a 5xx status are not remembered: retrying them runs the request again.`,
    example: '0f8b7a5e-2b1c-4a6e-9d3f-7c4e5a1b2c3d',
  })

export const IDEMPOTENCY_PROBLEM_TYPES = {
  reused: 'urn:setu:problem:idempotency-key-reused',
  inProgress: 'urn:setu:problem:idempotency-key-in-progress',
} as const

const keyReused = () =>
  new Problem(
    422,
    'Unprocessable Content',
    'This Idempotency-Key was already used by this API key for a different request (another method, path or body); use a new key for a new request',
    { type: IDEMPOTENCY_PROBLEM_TYPES.reused },
  )

const keyInProgress = () =>
  new Problem(
    409,
    'Conflict',
    `The first request with this Idempotency-Key is still being processed after ${WAIT_MS / 1000} s; retry the same request later to receive its answer`,
    { type: IDEMPOTENCY_PROBLEM_TYPES.inProgress, headers: { 'retry-after': '1' } },
  )

interface Claim {
  apiKeyId: string
  key: string
  /** created_at of the claim as PostgreSQL prints it: it tells this claim apart from a later one of the same key. */
  claimedAt: string
}

interface StoredAnswer {
  status: number
  headers: Record<string, string>
  body: string | null
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * false: the route ignores Idempotency-Key, because its answer must not be stored (POST /v1/keys answers a
     * secret that setu keeps only as a hash).
     */
    idempotency?: boolean
  }
  interface FastifyRequest {
    /** The Idempotency-Key this request claimed and must answer (store) or give back. */
    idempotencyClaim: Claim | null
  }
}

const hashOf = (request: FastifyRequest) =>
  createHash('sha256')
    .update(`${request.method} ${request.url}\n`)
    .update(JSON.stringify(request.body ?? null))
    .digest('base64url')

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function idempotencyRepo(db: Db) {
  return {
    /**
     * Claims the key for this request, in autocommit so that every other process sees the claim at once. A key
     * older than KEEP_HOURS is claimed afresh whatever its request; an abandoned claim only by the same request.
     * Answers the claim, or undefined when another request holds the key.
     */
    async claim(apiKeyId: string, key: string, hash: string): Promise<Claim | undefined> {
      const { rows } = await db.execute<{ claimed_at: string }>(sql`
        INSERT INTO idempotency_keys AS k (api_key_id, key, request_hash) VALUES (${apiKeyId}::uuid, ${key}, ${hash})
        ON CONFLICT (api_key_id, key) DO UPDATE
          SET request_hash = EXCLUDED.request_hash, status = NULL, headers = NULL, body = NULL, created_at = now()
          WHERE k.created_at < now() - make_interval(hours => ${KEEP_HOURS})
             OR (k.status IS NULL AND k.request_hash = EXCLUDED.request_hash
                 AND k.created_at < now() - make_interval(secs => ${ABANDONED_AFTER_S}))
        RETURNING created_at::text AS claimed_at`)
      return rows[0] ? { apiKeyId, key, claimedAt: rows[0].claimed_at } : undefined
    },

    async find(apiKeyId: string, key: string) {
      const { rows } = await db.execute<{ request_hash: string; status: number | null; headers: Record<string, string> | null; body: string | null }>(sql`
        SELECT request_hash, status, headers, body FROM idempotency_keys WHERE api_key_id = ${apiKeyId}::uuid AND key = ${key}`)
      return rows[0]
    },

    /** Stores the answer of a claim that is still this request's; answers whether it was. */
    async store(c: Claim, answer: StoredAnswer): Promise<boolean> {
      const { rows } = await db.execute(sql`
        UPDATE idempotency_keys SET status = ${answer.status}, headers = ${JSON.stringify(answer.headers)}::jsonb, body = ${answer.body}
        WHERE api_key_id = ${c.apiKeyId}::uuid AND key = ${c.key} AND created_at = ${c.claimedAt}::timestamptz AND status IS NULL
        RETURNING 1`)
      return rows.length > 0
    },

    /** Gives the key back, so that a retry runs the request again. */
    async release(c: Claim): Promise<void> {
      await db.execute(sql`
        DELETE FROM idempotency_keys
        WHERE api_key_id = ${c.apiKeyId}::uuid AND key = ${c.key} AND created_at = ${c.claimedAt}::timestamptz AND status IS NULL`)
    },

    async purge(): Promise<void> {
      await db.execute(sql`DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => ${KEEP_HOURS})`)
    },
  }
}

type Outcome = { claimed: Claim } | { answer: StoredAnswer } | { refused: Problem }

/**
 * Claims the key, or waits for the answer of the request that holds it. Waiting polls with short pauses and holds
 * no pooled connection in between, so ten waiting repeats do not starve the request they wait for.
 */
async function claimOrWait(repo: ReturnType<typeof idempotencyRepo>, apiKeyId: string, key: string, hash: string): Promise<Outcome> {
  const deadline = Date.now() + WAIT_MS
  for (let pause = 10; ; pause = Math.min(pause * 2, 200)) {
    const claimed = await repo.claim(apiKeyId, key, hash)
    if (claimed) return { claimed }
    const held = await repo.find(apiKeyId, key)
    // Gone between the two statements (released after a 5xx, or purged): claim again at once.
    if (!held) continue
    if (held.request_hash !== hash) return { refused: keyReused() }
    if (held.status !== null) return { answer: { status: held.status, headers: held.headers ?? {}, body: held.body } }
    if (Date.now() + pause > deadline) return { refused: keyInProgress() }
    await sleep(pause)
  }
}

function replay(reply: FastifyReply, answer: StoredAnswer) {
  // A string body with a JSON content type is sent as it is, without the route's serializer.
  return reply
    .code(answer.status)
    .headers(answer.headers)
    .header(REPLAYED_HEADER, 'true')
    .send(answer.body ?? undefined)
}

function answerOf(reply: FastifyReply, payload: unknown): StoredAnswer | undefined {
  if (payload !== null && payload !== undefined && typeof payload !== 'string') return undefined
  const headers: Record<string, string> = {}
  for (const name of REPLAYED_HEADERS) {
    const value = reply.getHeader(name)
    if (value !== undefined) headers[name] = String(value)
  }
  return { status: reply.statusCode, headers, body: payload ?? null }
}

/** Adds `hook` to a route's own hooks of that kind, after any it has. */
function appendHook(route: Record<string, unknown>, name: string, hook: unknown) {
  const current = route[name]
  route[name] = current === undefined ? [hook] : [...[current].flat(), hook]
}

/**
 * Installs Idempotency-Key on every POST: documents the header and its 409/422 answers on each POST route, and
 * gives each POST route hooks of its own (other routes pay nothing): claim or replay before the handler
 * (preHandler: after authentication, which names the API key, and after validation, so that a malformed request
 * claims nothing), and store the answer as it is sent (onSend). Must run before any route is added.
 */
export function registerIdempotency(app: FastifyInstance, db: Db) {
  const repo = idempotencyRepo(db)
  let lastPurge = 0
  app.decorateRequest('idempotencyClaim', null)

  async function claimOrReplay(request: FastifyRequest, reply: FastifyReply) {
    const key = request.headers[IDEMPOTENCY_KEY_HEADER]
    // A route for POST and other methods (none today) remembers its POSTs only.
    if (key === undefined || request.method !== 'POST') return
    // Validated with the route's headers; a route whose schema is hidden gets the same answer here.
    if (typeof key !== 'string' || !KEY.test(key)) {
      throw new Problem(400, 'Bad Request', 'Idempotency-Key must be 1 to 255 visible ASCII characters, without spaces', {
        type: 'urn:setu:problem:validation',
        errors: [{ path: IDEMPOTENCY_KEY_HEADER, message: 'must be 1 to 255 visible ASCII characters, without spaces' }],
      })
    }
    // Every POST needs a key (policy.ts refuses anonymous writes before this hook); there is nothing to scope to otherwise.
    if (request.caller.kind !== 'key') return

    const outcome = await claimOrWait(repo, request.caller.keyId, key, hashOf(request))
    if ('refused' in outcome) throw outcome.refused
    if ('answer' in outcome) return replay(reply, outcome.answer)
    request.idempotencyClaim = outcome.claimed
    if (Date.now() - lastPurge > PURGE_EVERY_MS) {
      lastPurge = Date.now()
      repo.purge().catch((err: unknown) => request.log.warn({ err }, 'could not purge old idempotency keys'))
    }
  }

  // The answer is stored after the handler's transaction has committed and before the client receives it. A
  // process that dies in between leaves a write done and a claim without an answer: after ABANDONED_AFTER_S a retry
  // claims it again and makes the write a second time. Storing the answer inside the write's own transaction would
  // close that window, but the handlers own their transactions; the window is one UPDATE long.
  async function storeAnswer(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
    const claim = request.idempotencyClaim
    if (!claim) return payload
    request.idempotencyClaim = null
    const answer = reply.statusCode < 500 ? answerOf(reply, payload) : undefined
    try {
      if (!answer) await repo.release(claim)
      else if (!(await repo.store(claim, answer))) request.log.warn('an Idempotency-Key claim was taken over before its answer was stored')
    } catch (err) {
      // The write itself is done: its answer still goes out. A retry waits until the claim counts as abandoned.
      request.log.warn({ err }, 'could not store the answer for an Idempotency-Key')
    }
    return payload
  }

  // A request that ended without sending an answer through onSend gives its claim back.
  async function releaseUnanswered(request: FastifyRequest) {
    const claim = request.idempotencyClaim
    if (!claim) return
    request.idempotencyClaim = null
    await repo.release(claim).catch((err: unknown) => request.log.warn({ err }, 'could not release an Idempotency-Key'))
  }

  app.addHook('onRoute', (route) => {
    if (![route.method].flat().includes('POST') || route.config?.idempotency === false) return
    const hooks = route as unknown as Record<string, unknown>
    appendHook(hooks, 'preHandler', claimOrReplay)
    appendHook(hooks, 'onSend', storeAnswer)
    appendHook(hooks, 'onResponse', releaseUnanswered)

    const schema = route.schema as { hide?: boolean; headers?: unknown; response?: Record<string | number, unknown> } | undefined
    if (!schema || schema.hide) return
    const header = { [IDEMPOTENCY_KEY_HEADER]: IdempotencyKeyHeader }
    if (schema.headers === undefined) schema.headers = z.object(header)
    else if (schema.headers instanceof z.ZodObject) schema.headers = schema.headers.extend(header)
    if (schema.response) {
      const missing = [409, 422].filter((s) => schema.response![s] === undefined && schema.response![String(s)] === undefined)
      schema.response = { ...schema.response, ...problemResponses(...missing) }
    }
  })
}
