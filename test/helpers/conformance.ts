// Response conformance: every response a test receives through app.inject is checked against what
// /openapi.json promises for that operation (status, content type, body schema), so that a drift
// between the code and the document fails the test that exposed it.
import diagnostics from 'node:diagnostics_channel'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import formats from 'ajv-formats'

// ajv-formats is CommonJS: under NodeNext its default import is the module, whose `default` is the plugin.
const addFormats = formats.default

/** One response as the client saw it, with the route pattern fastify matched (undefined: no route matched). */
export interface ResponseSample {
  method: string
  route: string | undefined
  status: number
  contentType: string | undefined
  body: string
}

export interface Violation {
  method: string
  route: string
  status: number
  contentType: string
  problems: string[]
}

export const formatViolation = (v: Violation) =>
  `${v.method} ${v.route} → ${v.status} ${v.contentType || '(no content type)'} does not match /openapi.json:\n` +
  v.problems.map((p) => `  - ${p}`).join('\n')

interface MediaObject {
  schema?: unknown
}
interface ResponseObject {
  content?: Record<string, MediaObject>
}
interface OperationObject {
  responses?: Record<string, ResponseObject>
}
export interface OpenApiDocument {
  paths?: Record<string, Record<string, OperationObject>>
  components?: { schemas?: Record<string, unknown> }
}

// Ajv resolves the document's own `#/components/schemas/...` refs when a response schema is compiled
// as a pointer into the whole document registered under this id.
const DOC_ID = 'urn:setu:openapi'
const pointer = (...parts: string[]) => parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')

const mediaType = (contentType: string | undefined) => (contentType ?? '').split(';')[0].trim().toLowerCase()
const isJson = (type: string) => type === 'application/json' || /^application\/[^/]+\+json$/.test(type)

/** fastify's `/v1/providers/:id/` → OpenAPI's `/v1/providers/{id}`. */
export const openapiPath = (route: string) => {
  const path = route.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
  return path.length > 1 ? path.replace(/\/+$/, '') : path
}

function documentedType(content: Record<string, MediaObject>, actual: string): string | undefined {
  if (actual in content) return actual
  const [type] = actual.split('/')
  if (`${type}/*` in content) return `${type}/*`
  if ('*/*' in content) return '*/*'
  return undefined
}

const ajvMessage = (e: ErrorObject) => {
  const params = e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : ''
  return `body${e.instancePath} ${e.message}${params}`
}

/** A checker for one OpenAPI document. Validators are compiled once per operation, status and content type. */
export function conformanceChecker(doc: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false })
  addFormats(ajv)
  ajv.addSchema(doc as object, DOC_ID)
  const validators = new Map<string, ValidateFunction>()
  // The not-found handler answers for no operation; it still owes the client a problem document.
  const notFound = { content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } }

  function validator(key: string, ref: string) {
    const cached = validators.get(key)
    if (cached) return cached
    const v = ajv.compile({ $ref: `${DOC_ID}#${ref}` })
    validators.set(key, v)
    return v
  }

  return function check(sample: ResponseSample): Violation | undefined {
    const method = sample.method.toUpperCase()
    const actualType = mediaType(sample.contentType)
    const problems: string[] = []
    let route = '(no route)'
    let responses: Record<string, ResponseObject>
    let base: string
    if (sample.route === undefined) {
      responses = { default: notFound }
      base = ''
    } else {
      route = openapiPath(sample.route)
      // fastify answers HEAD from the GET route; the document describes only the GET.
      const docMethod = method === 'HEAD' ? 'get' : method.toLowerCase()
      const op = doc.paths?.[route]?.[docMethod]
      if (!op) {
        return { method, route, status: sample.status, contentType: actualType, problems: ['the operation is not in the document'] }
      }
      responses = op.responses ?? {}
      base = '/' + pointer('paths', route, docMethod, 'responses')
    }
    const statusKey = [String(sample.status), `${String(sample.status)[0]}XX`, 'default'].find((k) => k in responses)
    if (!statusKey) {
      problems.push(`status ${sample.status} is not documented (documented: ${Object.keys(responses).join(', ') || 'none'})`)
      return { method, route, status: sample.status, contentType: actualType, problems }
    }
    const content = responses[statusKey].content
    const hasBody = sample.body.length > 0 && method !== 'HEAD'
    if (!content || Object.keys(content).length === 0) {
      if (hasBody) problems.push(`a ${actualType || 'body'} is sent but status ${statusKey} documents no content`)
    } else if (hasBody || actualType) {
      const documented = documentedType(content, actualType)
      if (!documented) {
        problems.push(`content type ${actualType || '(none)'} is not documented for ${statusKey} (documented: ${Object.keys(content).join(', ')})`)
      }
      // A JSON body under an undocumented JSON type is still checked against the documented JSON schema,
      // so that one drift does not hide another behind it.
      const type = documented ?? (isJson(actualType) ? Object.keys(content).find(isJson) : undefined)
      if (type && hasBody && isJson(actualType) && content[type].schema !== undefined) {
        let body: unknown
        try {
          body = JSON.parse(sample.body)
        } catch {
          problems.push(`the body is not JSON: ${sample.body.slice(0, 200)}`)
        }
        if (body !== undefined) {
          const validate =
            sample.route === undefined
              ? validator('404', '/components/schemas/Problem')
              : validator(`${method} ${route} ${statusKey} ${type}`, `${base}/${pointer(statusKey, 'content', type, 'schema')}`)
          const against = type === documented ? '' : ` (against the ${type} schema)`
          if (!validate(body)) problems.push(...(validate.errors ?? []).map((e) => ajvMessage(e) + against))
        }
      }
    }
    return problems.length ? { method, route, status: sample.status, contentType: actualType, problems } : undefined
  }
}

export class ConformanceError extends Error {
  constructor(readonly violation: Violation) {
    super(formatViolation(violation))
    this.name = 'ConformanceError'
  }
}

/** What a test app's conformance hook has seen; `throwOnViolation = false` collects instead of failing the inject. */
export interface Conformance {
  throwOnViolation: boolean
  violations: Violation[]
  /** The violations since the last call. */
  take(): Violation[]
}

const installed = new WeakMap<FastifyInstance, Conformance>()

// Every test app of a process serves the same document: compile its validators once, not once per app.
const checkers = new Map<string, ReturnType<typeof conformanceChecker>>()
function checkerFor(app: FastifyInstance) {
  const text = JSON.stringify(app.swagger())
  let check = checkers.get(text)
  if (!check) {
    check = conformanceChecker(JSON.parse(text))
    checkers.set(text, check)
  }
  return check
}

export function conformanceOf(app: FastifyInstance): Conformance {
  const c = installed.get(app)
  if (!c) throw new Error('this app was not built by buildTestApp: it has no conformance hook')
  return c
}

function installHook(app: FastifyInstance): Conformance {
  const routes = new WeakMap<object, string>()
  const hiddenRoutes = new Set<string>()
  const state: Conformance = {
    throwOnViolation: true,
    violations: [],
    take() {
      return this.violations.splice(0)
    },
  }
  app.addHook('onRoute', (route) => {
    if ((route.schema as { hide?: boolean } | undefined)?.hide) {
      for (const m of [route.method].flat()) hiddenRoutes.add(`${m} ${route.url}`)
    }
  })
  // onRequest runs for every request, the not-found handler's included, before anything can fail.
  app.addHook('onRequest', async (request) => {
    if (request.is404) return
    routes.set(request.raw, request.routeOptions.url ?? '')
  })
  // Routes the document hides (/openapi.json, /docs) have nothing to be checked against.
  const hidden = (method: string, route: string) =>
    hiddenRoutes.has(`${method} ${route}`) || (method === 'HEAD' && hiddenRoutes.has(`GET ${route}`))

  let check: ReturnType<typeof conformanceChecker> | undefined
  const inject = app.inject.bind(app) as (opts: InjectOptions | string) => Promise<LightMyRequestResponse>
  const checked = async (opts: InjectOptions | string) => {
    const res = await inject(opts)
    const route = routes.get(res.raw.req)
    const method = res.raw.req.method ?? 'GET'
    if (route && hidden(method, route)) return res
    check ??= checkerFor(app)
    const violation = check({
      method,
      route: route || undefined,
      status: res.statusCode,
      contentType: res.headers['content-type'] as string | undefined,
      body: res.body,
    })
    if (violation) {
      state.violations.push(violation)
      if (state.throwOnViolation) throw new ConformanceError(violation)
    }
    return res
  }
  // Only the promise form of inject is checked: the callback and chain forms are not used by the suite.
  ;(app as { inject: unknown }).inject = (opts?: InjectOptions | string, cb?: unknown) =>
    opts === undefined || cb !== undefined ? (inject as (...a: unknown[]) => unknown)(opts, cb) : checked(opts)
  installed.set(app, state)
  return state
}

/**
 * Runs `build` with the conformance hook installed on the fastify instance it creates. The hook must be
 * added before any plugin registers its routes (fastify copies hooks into a plugin when it is
 * registered), so it is installed from fastify's `fastify.initialization` channel, which fires as the
 * instance is created.
 */
export async function withConformance(build: () => Promise<FastifyInstance>): Promise<FastifyInstance> {
  let created: FastifyInstance | undefined
  const onInit = (message: unknown) => {
    created ??= (message as { fastify: FastifyInstance }).fastify
    if (created === (message as { fastify: FastifyInstance }).fastify) installHook(created)
  }
  diagnostics.subscribe('fastify.initialization', onInit)
  let building: Promise<FastifyInstance>
  try {
    building = build()
  } finally {
    diagnostics.unsubscribe('fastify.initialization', onInit)
  }
  const app = await building
  if (app !== created) {
    throw new Error('the conformance hook missed the app: buildApp must create its fastify instance before its first await')
  }
  return app
}
