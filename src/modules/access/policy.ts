// Access control for every route: each route names the access it needs (config.access, roles.ts); one onRequest
// hook authenticates the caller and refuses what the role does not allow, and one onRoute hook writes the same
// rule into the OpenAPI document (security requirement, 401/403 responses, the roles in the description).
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Problem, problemResponses } from '../../lib/problem.js'
import { forbidden, unauthorized, type KeyAuthenticator } from './authenticate.js'
import { allows, ANONYMOUS, rolesFor, type Access, type Caller } from './roles.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling: set before any handler runs. */
    caller: Caller
  }
  interface FastifyContextConfig {
    /** What the route requires; a route that names nothing is for admins only, so that none is opened by mistake. */
    access?: Access
  }
}

export const SECURITY_SCHEME = 'bearer'

/** Routes that plugins add (the docs and the document itself) are public; everything else must say. */
const accessOf = (url: string, declared: Access | undefined): Access =>
  declared ?? (url === '/docs' || url.startsWith('/docs/') || url === '/openapi.json' ? 'public' : 'admin')

function describeAccess(access: Access): string {
  const roles = rolesFor(access)
  if (roles === 'anyone') return 'Access: anyone, no API key needed (an API key may show more, e.g. exact locations).'
  return `Access: API key with role ${roles.join(', ')}.`
}

/** Installs the hooks; must run before @fastify/swagger collects the routes and before any route is added. */
export function registerAccessControl(app: FastifyInstance, authenticator: KeyAuthenticator) {
  // Not ANONYMOUS itself: Fastify refuses an object as a request decoration's default (it would be shared).
  app.decorateRequest('caller', null as never)

  app.addHook('onRoute', (route) => {
    const access = accessOf(route.url, route.config?.access)
    route.config = { ...route.config, access }
    const schema = route.schema as
      | { hide?: boolean; description?: string; security?: unknown; response?: Record<string | number, unknown> }
      | undefined
    if (!schema || schema.hide || !schema.response) return
    // An empty requirement ({}) makes the key optional: public routes answer without one.
    schema.security = access === 'public' ? [{}, { [SECURITY_SCHEME]: [] }] : [{ [SECURITY_SCHEME]: [] }]
    if (!schema.description?.includes('Access: ')) schema.description = `${schema.description ?? ''}\n\n${describeAccess(access)}`.trim()
    // A key can always be refused (401 for a bad one, also on public routes); a role only where one is required.
    const statuses = access === 'public' ? [401] : [401, 403]
    const missing = statuses.filter((s) => schema.response![s] === undefined)
    schema.response = { ...schema.response, ...problemResponses(...missing) }
  })

  // Two steps, so that the rate limit (a route-level onRequest hook, which runs after this instance-level one) counts
  // a request before any database lookup is made for it: what the key cache already knows is settled here; a key
  // it does not know counts against the client address and is looked up afterwards, in preParsing, where the
  // route's access is then checked. A stream of made-up keys is so limited like any anonymous traffic.
  // Requests whose key the cache did not know, to be looked up in preParsing (the cache is asked once per request).
  const unverified = new WeakSet<FastifyRequest>()
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('vary', varyWithAuthorization(reply.getHeader('vary')))
    const known = authenticator.known(request.headers.authorization)
    request.caller = known instanceof Problem || known === undefined ? ANONYMOUS : known
    if (known === undefined) unverified.add(request)
    if (known instanceof Problem) done(known)
    else done()
  })

  app.addHook('preParsing', async (request) => {
    if (unverified.has(request)) request.caller = await authenticator.authenticate(request.headers.authorization)
    // Unknown routes answer 404 whoever asks.
    if (request.is404) return
    const access = request.routeOptions.config.access ?? 'admin'
    if (allows(access, request.caller)) return
    if (request.caller.kind === 'anonymous') throw unauthorized('This operation needs an API key: Authorization: Bearer <key>')
    throw forbidden(`The ${request.caller.role} role may not ${request.method} ${request.routeOptions.url}`)
  })
}

/** The Vary header with Authorization added: public answers differ by key (masked locations), so caches must not share them. */
function varyWithAuthorization(current: unknown): string {
  const present = typeof current === 'string' ? current : Array.isArray(current) ? current.join(', ') : ''
  if (/(^|,)\s*(authorization|\*)\s*(,|$)/i.test(present)) return present
  return present ? `${present}, Authorization` : 'Authorization'
}
