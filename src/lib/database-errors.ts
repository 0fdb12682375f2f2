// Which errors mean "the database cannot serve us right now" rather than "this request is wrong" or "we
// have a bug": they answer 503, never 500. problem.ts turns the verdict into the problem document.

export const DATABASE_PROBLEM_TYPES = {
  unavailable: 'urn:setu:problem:unavailable',
  timeout: 'urn:setu:problem:timeout',
} as const

/** Seconds a client should wait before retrying while the database is unreachable. */
export const RETRY_AFTER_S = 5

export interface DatabaseFailure {
  status: 503
  title: string
  detail: string
  type: string
  headers: Record<string, string>
  /** What to log: the driver's code and message, never the SQL or its parameters. */
  log: { code?: string; message: string }
}

// SQLSTATEs of a server that is going away, not taking connections, or out of them.
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown: terminating connection due to administrator command (pg_ctl stop -m fast)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: the database system is starting up / shutting down / in recovery
  '57P05', // idle_session_timeout
  '53300', // too_many_connections
])

// Socket errors from connecting to or talking with the server. ENOENT is the unix socket file gone with
// its server; it only counts from connect(), so that a missing file elsewhere stays a bug.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND'])

// node-postgres raises plain Errors without a code for a lost connection and for an exhausted wait on the
// pool; their messages are its only contract (pg 8, pg-pool 3).
const DRIVER_MESSAGES = [
  /^Connection terminated/, // unexpectedly; due to connection timeout
  /^timeout exceeded when trying to connect/, // every pooled connection stayed busy for connectTimeoutMs
  /is not queryable/, // a client that already lost its connection
  /^Cannot use a pool after calling end on the pool/, // shutting down
]

type ErrorLike = Error & { code?: unknown; syscall?: unknown; cause?: unknown; errors?: unknown }

/** The error and what caused it: drizzle wraps driver errors (DrizzleQueryError.cause), pg-pool wraps timeouts. */
function* chain(err: unknown): Generator<ErrorLike> {
  const seen = new Set<unknown>()
  const queue = [err]
  while (queue.length) {
    const e = queue.shift()
    if (!(e instanceof Error) || seen.has(e)) continue
    seen.add(e)
    yield e as ErrorLike
    const { cause, errors } = e as ErrorLike
    queue.push(cause)
    // A host name with several addresses fails with an AggregateError of one error per address.
    if (Array.isArray(errors)) queue.push(...errors)
  }
}

function unavailableCause(e: ErrorLike): boolean {
  const code = typeof e.code === 'string' ? e.code : undefined
  if (code && (UNAVAILABLE_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true
  if (code && typeof e.syscall === 'string' && (SOCKET_CODES.has(code) || (code === 'ENOENT' && e.syscall === 'connect'))) return true
  if (code && SOCKET_CODES.has(code) && e instanceof AggregateError) return true
  return DRIVER_MESSAGES.some((m) => m.test(e.message))
}

/**
 * 503 when the database is unreachable or the statement was cancelled by statement_timeout (57014);
 * undefined for every other error.
 *
 * A cancelled statement is a 503 rather than a 504: setu is not a gateway, and the server declining to spend
 * more than its bound on one request is the overload that 503 describes. One status also keeps every route's
 * documented responses the same; the problem type tells the two apart. It carries no Retry-After: the
 * same request is likely to take as long again, so the detail asks for a narrower one.
 */
export function databaseFailure(err: unknown): DatabaseFailure | undefined {
  for (const e of chain(err)) {
    const log = { code: typeof e.code === 'string' ? e.code : undefined, message: e.message }
    if (e.code === '57014') {
      return {
        status: 503,
        title: 'Service Unavailable',
        detail:
          'The request took longer than the database allows one statement and was cancelled. ' +
          'Narrow it (a smaller area, fewer hops, a smaller page) or try again later.',
        type: DATABASE_PROBLEM_TYPES.timeout,
        headers: {},
        log,
      }
    }
    if (unavailableCause(e)) {
      return {
        status: 503,
        title: 'Service Unavailable',
        detail: `The database is unreachable at the moment; retry in ${RETRY_AFTER_S} seconds.`,
        type: DATABASE_PROBLEM_TYPES.unavailable,
        headers: { 'retry-after': String(RETRY_AFTER_S) },
        log,
      }
    }
  }
  return undefined
}
