// Where a newcomer lands: GET /v1 says what the API is and where its parts are. GET / is the field page
// (modules/page/), which links here and to the docs.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import pkg from '../../../package.json' with { type: 'json' }

const Link = z.object({ href: z.string(), title: z.string() })

export const ApiIndex = z
  .object({
    name: z.string(),
    version: z.string(),
    description: z.string(),
    links: z.object({
      docs: Link,
      openapi: Link,
      health: Link,
      readiness: Link,
      areas: Link,
      providers: Link,
      nearest: Link,
      referral_links: Link,
      mous: Link,
      pathways: Link,
      keys: Link,
      organisations: Link,
      audit: Link,
      tiles: Link,
    }),
  })
  .meta({ id: 'ApiIndex' })

const index: z.infer<typeof ApiIndex> = {
  name: 'setu',
  version: pkg.version,
  description: pkg.description,
  links: {
    docs: { href: '/docs', title: 'Browsable API documentation' },
    openapi: { href: '/openapi.json', title: 'The OpenAPI 3.1 document' },
    health: { href: '/healthz', title: 'Liveness' },
    readiness: { href: '/readyz', title: 'Readiness: database reachable and migrated' },
    areas: { href: '/v1/areas', title: 'Administrative areas' },
    providers: { href: '/v1/providers', title: 'The directory of providers and focal points' },
    nearest: { href: '/v1/providers/nearest', title: 'Nearest providers to a point (lat, lon)' },
    referral_links: { href: '/v1/referral-links', title: 'Referral links and their health' },
    mous: { href: '/v1/mous', title: 'MOUs and their history' },
    pathways: { href: '/v1/pathways', title: 'Chains of healthy referral links to a service' },
    keys: { href: '/v1/keys', title: 'API keys (admins)' },
    organisations: { href: '/v1/organisations', title: 'Partner organisations (admins)' },
    audit: { href: '/v1/audit', title: 'The audit trail of every write (admins)' },
    tiles: { href: '/v1/tiles/areas.json', title: 'Map tiles: TileJSON of the areas layer (and /v1/tiles/providers.json)' },
  },
}

export const apiIndexRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/v1',
    {
      config: { access: 'public' },
      schema: { tags: ['system'], summary: 'API index', description: 'Name, version and links to the docs and collections.', response: { 200: ApiIndex } },
    },
    async () => index,
  )
}
