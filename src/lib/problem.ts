// RFC 9457 problem details: the one error class and the one error handler of the API.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { databaseFailure } from './database-errors.js'

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
  })
  .meta({ id: 'FieldError' })

export const ProblemSchema = z
  .object({
    type: z.string().meta({ example: PROBLEM_TYPES.validation }),
    title: z.string().meta({ example: 'Bad Request' }),
    status: z.number().int().meta({ example: 400 }),
    detail: z.string().optional().meta({ example: 'querystring/lat: Too big: expected number to be <=90' }),
    instance: z.string().optional(),
    errors: z.array(FieldErrorSchema).optional(),
  })
  .catchall(z.unknown())
  .meta({
    id: 'Problem',
    description: 'An RFC 9457 problem details document, served as application/problem+json.',
  })

/** Standard error responses for a route's schema. */
export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, ProblemSchema])) as Record<number, typeof ProblemSchema>

function sendProblem(reply: FastifyReply, request: FastifyRequest, problem: Problem) {
  const { type, headers, ...rest } = problem.extra
  const body = {
    type: type ?? 'about:blank',
    title: problem.title,
    status: problem.status,
    ...(problem.detail !== undefined ? { detail: problem.detail } : {}),
    instance: request.url,
    ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
  }
  // Bypass the route's serializer: a problem is never shaped like the success response.
  return reply
    .headers(headers ?? {})
    .status(problem.status)
    .type('application/problem+json; charset=utf-8')
    .serializer(JSON.stringify)
    .send(body)
}

const dotted = (instancePath: string) => instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.')

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
  const where = context ?? 'request'
  const detail = `The ${where} is invalid: ` + errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; ')
  return badRequest(detail, errors)
}

// Postgres error codes that mean the client asked for something impossible, not that we failed.
const PG_CLIENT_ERRORS: Record<string, (err: { detail?: string; message: string }) => Problem> = {
  '23505': (e) => conflict(e.detail ?? 'The record already exists'),
  '23503': (e) => unprocessable(e.detail ?? 'A referenced record does not exist'),
  '23514': (e) => unprocessable(`A value is outside what is allowed (${e.message})`),
  '22P02': (e) => badRequest(`A value has the wrong form (${e.message})`),
  '22003': (e) => badRequest(`A number is out of range (${e.message})`),
  '22007': (e) => badRequest(`A date or time is invalid (${e.message})`),
  '22008': (e) => badRequest(`A date or time is out of range (${e.message})`),
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
  if (error.code && PG_CLIENT_ERRORS[error.code]) return PG_CLIENT_ERRORS[error.code](error)
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
    429: 'Too Many Requests',
  }
  return titles[status] ?? 'Bad Request'
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
