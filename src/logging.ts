// What setu writes to its log. A log line may end up in a shared log system, so it never carries what a caller
// sent: no query strings (a nearest-service search holds the caller's coordinates), no SQL parameters (names,
// notes), no SQL text.
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino'

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

const FAILED_QUERY = /^Failed query: [\s\S]*$/
// PostgreSQL quotes the offending input in messages such as `invalid input syntax for type uuid: "…"` and
// `value "…" is out of range for type integer`; identifiers it quotes (constraint, column, relation) stay.
const QUOTED_INPUT = /(:\s*|\bvalue\s+)"(?:[^"]|"")*"/g
const MAX_MESSAGE = 500

/** A message with the SQL text, parameters and quoted input values of database errors removed. */
export function safeMessage(message: string): string {
  const safe = message.replace(FAILED_QUERY, 'Failed query (SQL text and parameters are not logged)').replace(QUOTED_INPUT, '$1"…"')
  return safe.length > MAX_MESSAGE ? `${safe.slice(0, MAX_MESSAGE)}…` : safe
}

interface SerializedError {
  type: string
  message: string
  code?: string
  severity?: string
  constraint?: string
  table?: string
  column?: string
  stack?: string
  cause?: SerializedError
}

/**
 * Replaces pino's error serializer, which copies every enumerable property: a pg error's `detail`
 * ("Key (name)=(…) already exists"), `where` and `internalQuery`, and drizzle's wrapper's `query` and `params`.
 * Kept: the type, the code, a cleaned message, the names PostgreSQL reports, and the stack frames.
 */
export function serializeError(err: unknown, depth = 0): SerializedError {
  if (!(err instanceof Error)) return { type: typeof err, message: safeMessage(String(err)) }
  const e = err as Error & Record<string, unknown>
  const message = safeMessage(e.message)
  const out: SerializedError = { type: e.constructor?.name ?? e.name, message }
  for (const key of ['code', 'severity', 'constraint', 'table', 'column'] as const) {
    if (typeof e[key] === 'string') out[key] = e[key] as string
  }
  // The first line of a stack repeats the message; the frames say where it was thrown.
  if (e.stack) out.stack = [`${e.name}: ${message}`, ...e.stack.split('\n').filter((line) => /^\s+at /.test(line))].join('\n')
  if (e.cause !== undefined && depth < 3) out.cause = serializeError(e.cause, depth + 1)
  return out
}

/** Fastify serializes `req` on some error paths; never with its URL. */
const serializeRequest = (req: { method?: string; routeOptions?: { url?: string } }) => ({
  method: req.method,
  route: req.routeOptions?.url ?? null,
})

export function loggerOptions(level: LogLevel): LoggerOptions {
  return {
    level,
    serializers: { err: serializeError, error: serializeError, req: serializeRequest },
    hooks: {
      // A plain-string log call (`log.error(err.message)`) gets the same cleaning as a serialized error.
      logMethod(args, method) {
        const i = args.findIndex((a) => typeof a === 'string')
        if (i >= 0 && FAILED_QUERY.test(args[i] as string)) args[i] = safeMessage(args[i] as string)
        method.apply(this, args as Parameters<typeof method>)
      },
    },
  }
}

/** The process's logger: the server's startup and shutdown messages, and the app's (passed to buildApp). */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level))
}

/**
 * Fastify's own request lines, in place of its defaults: one line per request with the route pattern
 * (`/v1/providers/:id`), never the URL and its query string (its "incoming request", "request completed" and
 * "Route … not found" lines all carry the URL). Requests that matched no route log `route: null`.
 */
export class RequestLogController extends LogController {
  // Nothing is built per request for a line nobody writes (tests and benchmarks run below info).
  private readonly enabled: boolean

  constructor(level: LogLevel) {
    super()
    this.enabled = level === 'info' || level === 'debug' || level === 'trace'
  }

  override incomingRequest() {}

  override routeNotFound() {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply) {
    if (!this.enabled && !error) return
    const line = {
      method: request.method,
      route: request.routeOptions.url ?? null,
      status: reply.statusCode,
      duration_ms: Math.round(reply.elapsedTime * 100) / 100,
    }
    if (error) reply.log.error({ ...line, err: error }, 'request failed')
    else reply.log.info(line, 'request')
  }

  override defaultErrorLog(error: Error, request: FastifyRequest, reply: FastifyReply) {
    if (reply.statusCode >= 500) reply.log.error({ err: error }, 'unhandled error')
  }
}
