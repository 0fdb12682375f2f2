// RFC 9457 problem details: the one error class and the one error handler of the API.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { databaseFailure } from './database-errors.js'
import { REQUEST_ID_HEADER } from './request-id.js'

export const PROBLEM_TYPES = {
  validation: 'urn:setu:problem:validation',
  notFound: 'urn:setu:problem:not-found',
  conflict: 'urn:setu:problem:conflict',
  unprocessable: 'urn:setu:problem:unprocessable',
  badRequest: 'urn:setu:problem:bad-request',
  tooLarge: 'urn:setu:problem:payload-too-large',
  unsupportedMedia: 'urn:setu:problem:unsupported-media-type',
  notAcceptable: 'urn:setu:problem:not-acceptable',
  rateLimited: 'urn:setu:problem:rate-limited',
  internal: 'urn:setu:problem:internal',
} as const

export interface FieldError {
  path: string
  message: string
}

export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extra: { type?: string; errors?: FieldError[]; headers?: Record<string, string>; [key: string]: unknown } = {},
  ) {
    super(detail ?? title)
  }
}

export const notFound = (what: string, id: string) =>
  new Problem(404, 'Not Found', `${what} ${id} does not exist`, { type: PROBLEM_TYPES.notFound })

export const badRequest = (detail: string, errors?: FieldError[]) =>
  new Problem(400, 'Bad Request', detail, { type: errors ? PROBLEM_TYPES.validation : PROBLEM_TYPES.badRequest, errors })

export const conflict = (detail: string, extra: Record<string, unknown> = {}) =>
  new Problem(409, 'Conflict', detail, { type: PROBLEM_TYPES.conflict, ...extra })

export const unprocessable = (detail: string, errors?: FieldError[]) =>
  new Problem(422, 'Unprocessable Content', detail, { type: PROBLEM_TYPES.unprocessable, errors })

export const FieldErrorSchema = z
  .object({
    path: z.string().meta({ description: 'Where the problem is: a dotted path into the query, body or URL', example: 'location.lat' }),
    message: z.string(),
    index: z.number().int().optional().meta({ description: 'The row of a bulk request the error is about (0-based)', example: 3 }),
  })
  .meta({ id: 'FieldError' })

export const ProblemSchema = z
  .object({
    type: z.string().meta({ example: PROBLEM_TYPES.validation }),
    title: z.string().meta({ example: 'Bad Request' }),
    status: z.number().int().meta({ example: 400 }),
    detail: z.string().optional().meta({ example: 'The query string is invalid: lat: latitude must be between -90 and 90' }),
    instance: z.string().optional(),
    request_id: z.string().meta({
      description:
        'The id of the request this answer is about, as in the X-Request-Id response header and the server log: quote it when reporting a problem',
      example: '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed',
    }),
    errors: z.array(FieldErrorSchema).optional(),
  })
  .catchall(z.unknown())
  .meta({
    id: 'Problem',
    description: 'An RFC 9457 problem details document, served as application/problem+json.',
  })

export const PROBLEM_MEDIA_TYPE = 'application/problem+json'

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is malformed: errors lists each invalid parameter or field',
  401: 'No valid credentials',
  403: 'The credentials do not allow this',
  404: 'The resource does not exist',
  406: 'None of the accepted media types can be served',
  409: 'The request conflicts with the current state',
  412: 'If-Match names a version other than the current one',
  413: 'The request body is too large',
  414: 'A path segment is longer than 100 characters',
  415: 'The request body has an unsupported media type',
  422: 'The request is well-formed but breaks a rule: errors lists each one',
  429: 'Too many requests from this client; retry later',
  500: 'An unexpected error (a bug, logged with the request id)',
  503: 'The database is unreachable; retry after the Retry-After delay',
}

/** Error responses for a route's schema: each documented as application/problem+json with the Problem schema. */
export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: PROBLEM_DESCRIPTIONS[s] ?? 'A problem', content: { [PROBLEM_MEDIA_TYPE]: { schema: ProblemSchema } } },
    ]),
  ) as Record<number, { description: string; content: { [PROBLEM_MEDIA_TYPE]: { schema: typeof ProblemSchema } } }>

function sendProblem(reply: FastifyReply, request: FastifyRequest, problem: Problem) {
  const { type, headers, ...rest } = problem.extra
  const body = {
    type: type ?? 'about:blank',
    title: problem.title,
    status: problem.status,
    ...(problem.detail !== undefined ? { detail: problem.detail } : {}),
    instance: request.url,
    request_id: request.id,
    ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
  }
  // Bypass the route's serializer: a problem is never shaped like the success response.
  return reply
    .header(REQUEST_ID_HEADER, request.id)
    .headers(headers ?? {})
    .status(problem.status)
    .type(`${PROBLEM_MEDIA_TYPE}; charset=utf-8`)
    .serializer(JSON.stringify)
    .send(body)
}

const dotted = (instancePath: string) => instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.')

// Fastify's names for the parts of a request, in words.
const CONTEXT_NAMES: Record<string, string> = { body: 'body', querystring: 'query string', params: 'path', headers: 'headers' }

function validationProblem(error: FastifyError & { validation: unknown[] }, context: string | undefined) {
  const errors: FieldError[] = []
  for (const issue of error.validation as Array<{ instancePath: string; message: string; keyword: string; params?: { keys?: string[] } }>) {
    const base = dotted(issue.instancePath)
    if (issue.keyword === 'unrecognized_keys' && issue.params?.keys?.length) {
      for (const key of issue.params.keys) {
        errors.push({ path: base ? `${base}.${key}` : key, message: `unknown field "${key}"` })
      }
    } else {
      errors.push({ path: base, message: issue.message })
    }
  }
  const where = CONTEXT_NAMES[context ?? ''] ?? 'request'
  const detail = `The ${where} is invalid: ` + errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; ')
  return badRequest(detail, errors)
}

// PostgreSQL errors that mean the request asked for something impossible, not that setu failed. The
// validation in front of every query should catch these first; this is the backstop. The answers name
// no SQL, constraint or value: those describe the schema, not the caller's mistake.
function databaseClientProblem(code: string): Problem | undefined {
  if (code === '23505') return conflict('A record with the same key already exists')
  if (code === '23503') return unprocessable('A referenced record does not exist')
  if (code.startsWith('23')) return unprocessable('A value breaks a rule of the directory (an integrity constraint)')
  if (code.startsWith('22')) return badRequest('A value has the wrong form or is out of range')
  return undefined
}

/** The PostgreSQL error behind `err`: pg raises it directly, drizzle wraps it (the cause) with the query text. */
export function databaseErrorOf(err: unknown): { code: string } | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 3; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e as { code: string }
  }
  return undefined
}

export function toProblem(err: unknown, log: FastifyRequest['log']): Problem {
  if (err instanceof Problem) return err
  const failure = databaseFailure(err)
  if (failure) {
    log.warn({ db: failure.log, type: failure.type }, 'the database could not serve the request')
    return new Problem(failure.status, failure.title, failure.detail, { type: failure.type, headers: failure.headers })
  }
  const error = err as FastifyError & { code?: string; detail?: string }
  if (hasZodFastifySchemaValidationErrors(error)) return validationProblem(error, error.validationContext)
  if (error.validation) {
    return badRequest(`The ${error.validationContext ?? 'request'} is invalid: ${error.message}`, [
      { path: '', message: error.message },
    ])
  }
  const dbError = databaseErrorOf(error)
  const dbProblem = dbError && databaseClientProblem(dbError.code)
  if (dbProblem) {
    log.warn({ code: dbError.code }, 'the database refused a value that validation let through')
    return dbProblem
  }
  if (!isResponseSerializationError(error) && error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    const type =
      error.statusCode === 413
        ? PROBLEM_TYPES.tooLarge
        : error.statusCode === 415
          ? PROBLEM_TYPES.unsupportedMedia
          : error.statusCode === 429
            ? PROBLEM_TYPES.rateLimited
            : PROBLEM_TYPES.badRequest
    return new Problem(error.statusCode, httpTitle(error.statusCode), error.message, { type })
  }
  log.error({ err }, 'unhandled error')
  return new Problem(500, 'Internal Server Error', 'An unexpected error occurred; it has been logged.', {
    type: PROBLEM_TYPES.internal,
  })
}

function httpTitle(status: number) {
  const titles: Record<number, string> = {
    400: 'Bad Request',
    404: 'Not Found',
    405: 'Method Not Allowed',
    406: 'Not Acceptable',
    409: 'Conflict',
    413: 'Content Too Large',
    415: 'Unsupported Media Type',
    422: 'Unprocessable Content',
    414: 'URI Too Long',
    429: 'Too Many Requests',
  }
  return titles[status] ?? 'Bad Request'
}

/**
 * Fastify's own URL errors (a malformed percent-escape, a path parameter over its length limit) are raised
 * before routing and skip the error handler; passed as the `frameworkErrors` option, this answers them as
 * problems too.
 */
export function frameworkErrorProblem(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const detail =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'A path segment is longer than this API accepts (100 characters)'
      : error.code === 'FST_ERR_BAD_URL'
        ? 'The URL is not correctly percent-encoded'
        : 'The request cannot be routed'
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400
  return sendProblem(reply, request, new Problem(status, httpTitle(status), detail, { type: PROBLEM_TYPES.badRequest }))
}

export function registerProblemHandlers(app: FastifyInstance) {
  app.setErrorHandler((err, request, reply) => sendProblem(reply, request, toProblem(err, request.log)))
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      request,
      new Problem(404, 'Not Found', `No route matches ${request.method} ${request.url.split('?')[0]}`, {
        type: PROBLEM_TYPES.notFound,
      }),
    ),
  )
}

/**
 * Adds the problems every operation can answer to its documented responses, so that no route has to
 * remember them: a body can be malformed (400), too large (413) or of another media type (415); a path
 * parameter can be badly escaped (400) or too long (414);
 * anything can be rate limited (429); anything under /v1 needs the database (503 while it is away).
 * Must be added before @fastify/swagger collects the routes.
 */
export function documentCommonProblems(app: FastifyInstance) {
  app.addHook('onRoute', (route) => {
    const schema = route.schema as { hide?: boolean; body?: unknown; response?: Record<string | number, unknown> } | undefined
    if (!schema?.response || schema.hide) return
    const statuses = [429]
    if (schema.body) statuses.push(400, 413, 415)
    // Path parameters pass through the router first, which refuses a malformed escape and a long segment.
    if (route.url.includes(':')) statuses.push(400, 414)
    if (route.url.startsWith('/v1/')) statuses.push(503)
    const missing = statuses.filter((s) => schema.response![s] === undefined && schema.response![String(s)] === undefined)
    schema.response = { ...schema.response, ...problemResponses(...missing) }
  })
}
