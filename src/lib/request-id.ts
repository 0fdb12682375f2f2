// One id per request, end to end: taken from the caller's X-Request-Id when it is safe to echo and to log (a proxy
// or a partner system may have named the request already), otherwise a new UUID. Fastify binds it to every log line
// of the request (reqId); every response carries it in X-Request-Id, every problem as request_id, and the audit
// trail records it with each write (access/actor.ts).
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

export const REQUEST_ID_HEADER = 'x-request-id'

// Letters, digits and a few separators: nothing that could forge a log line or smuggle markup into a problem.
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/

/** Fastify's genReqId (with requestIdHeader off, so that an unsafe incoming id is replaced rather than trusted). */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER]
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID()
}
