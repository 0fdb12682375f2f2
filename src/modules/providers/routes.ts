import type { FastifyReply } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Db } from '../../db/client.js'
import { FeatureCollection, featureCollection, GEOJSON_MEDIA_TYPE, wantsGeoJson } from '../../lib/geojson.js'
import { problemResponses } from '../../lib/problem.js'
import { actorOf } from '../access/actor.js'
import { viewerOf } from '../access/roles.js'
import {
  BulkBody,
  BulkResult,
  IfMatchHeaders,
  ListQuery,
  NearestQuery,
  NearestResult,
  Provider,
  ProviderIdParams,
  ProviderInput,
  ProviderPage,
  ProviderPatch,
} from './schemas.js'
import { providersService } from './service.js'

const tags = ['providers']

// What every read says about confidential locations, once.
const MASKING =
  ' Confidential locations: unless you are an admin, an analyst or an editor of the owning organisation, a ' +
  'provider whose location_visibility is approximate shows the representative point of the smallest known area ' +
  'containing it, one that is hidden shows location null (GeoJSON geometry null), and neither shows its address; ' +
  'location_masked says so.'
// Who may write which provider, once.
const OWNERSHIP =
  ' Admins may write any provider; an editor only its own organisation’s, and with a key limited to areas only ' +
  'inside them (as stored and as written), else 403 and nothing is written.'

// A provider whose location is hidden from the caller is a feature without geometry (RFC 7946 §3.2).
const asFeatures = <T extends Provider>(items: T[], next_cursor?: string | null) =>
  featureCollection(
    items,
    (p) => (p.location ? { type: 'Point', coordinates: [p.location.lon, p.location.lat] } : null),
    ({ location: _location, ...properties }) => properties,
    next_cursor,
  )

const withEtag = (reply: FastifyReply, p: Provider) => {
  reply.header('etag', `"${p.version}"`)
  return p
}

const geoJsonOr = <T extends object>(schema: T, description: string) => ({
  description,
  content: {
    'application/json': { schema },
    [GEOJSON_MEDIA_TYPE]: { schema: FeatureCollection },
  },
})

export const providerRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, { db }) => {
  const providers = providersService(db)

  app.get(
    '/nearest',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Nearest providers to a point',
        description:
          'Providers ordered by geodesic (WGS 84 spheroid) distance from lat/lon, each with distance_m. Only active ' +
          'providers unless status says otherwise. Filters: category, max_km, gender (providers with no gender ' +
          'restriction always match), age, cost, kind. limit defaults to 5, at most 100. Answers a GeoJSON ' +
          'FeatureCollection with Accept: application/geo+json or format=geojson.' +
          MASKING +
          ' Providers are ranked and filtered by their real location; distance_m of a masked provider is rounded to ' +
          'whole kilometres.',
        querystring: NearestQuery,
        response: {
          200: geoJsonOr(NearestResult, 'The nearest providers, nearest first'),
          ...problemResponses(400),
        },
      },
    },
    async (request, reply) => {
      const geojson = wantsGeoJson(request, request.query.format)
      const body = await providers.nearestBody(request.query, geojson ? 'geojson' : 'json', viewerOf(request.caller))
      // Already the documented body, serialised by PostgreSQL: with a JSON content type Fastify sends a string as
      // it is, skipping the response serializer (test/providers/nearest-json.test.ts holds it to the schema).
      return reply.type(geojson ? GEOJSON_MEDIA_TYPE : 'application/json').send(body as never)
    },
  )

  app.get(
    '/',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'List providers',
        description:
          'Providers ordered by name, filtered by every given parameter (AND). area is a pcode at any level; q is a ' +
          'case-insensitive substring of the name or any spelling in names (at least 2 characters); bbox is ' +
          'minLon,minLat,maxLon,maxLat; lat, lon and radius_km go together; funded_after and verified_since skip ' +
          'providers without a funded_until or verification date; external_id is scheme:id. Pass next_cursor back ' +
          'as cursor for the next page. Answers a GeoJSON FeatureCollection with Accept: application/geo+json or format=geojson.' +
          MASKING +
          ' bbox and radius_km filter by the real location.',
        querystring: ListQuery,
        response: {
          200: geoJsonOr(ProviderPage, 'A page of providers'),
          ...problemResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const page = await providers.list(request.query, viewerOf(request.caller))
      if (wantsGeoJson(request, request.query.format)) {
        reply.type(GEOJSON_MEDIA_TYPE)
        return asFeatures(page.items, page.next_cursor)
      }
      return page
    },
  )

  app.post(
    '/',
    {
      config: { access: 'writer' },
      schema: {
        tags,
        summary: 'Add a provider',
        description:
          'Creates a provider. The areas containing its location are computed and returned; a location outside ' +
          'every known area is accepted and flagged with outside_known_areas: true. It belongs to the caller’s ' +
          'organisation unless an admin names another in organisation_id (an editor naming another is a 403; an ' +
          'unknown organisation a 422). location_visibility defaults to approximate for a shelter, exact otherwise.' +
          OWNERSHIP,
        body: ProviderInput,
        response: { 201: Provider, ...problemResponses(400, 403, 413, 422) },
      },
    },
    async (request, reply) => {
      const provider = await providers.create(request.body, actorOf(request))
      reply.status(201).header('location', `/v1/providers/${provider.id}`)
      return withEtag(reply, provider)
    },
  )

  app.post(
    '/bulk',
    {
      config: { access: 'writer' },
      schema: {
        tags,
        summary: 'Add many providers at once',
        description:
          'Creates up to 5,000 providers in one transaction. Every row is validated like POST /v1/providers; if any ' +
          'row is invalid nothing is written and the 422 problem lists every error with its row index. Likewise, if ' +
          'this key may not write any row (another organisation, outside its areas), nothing is written and the 403 ' +
          'problem lists every row refused with its index.' +
          OWNERSHIP,
        body: BulkBody,
        response: { 201: BulkResult, ...problemResponses(400, 403, 413, 422) },
      },
    },
    async (request, reply) => {
      const result = await providers.createBulk(request.body.providers, actorOf(request))
      reply.status(201)
      return result
    },
  )

  app.get(
    '/:id',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Get a provider',
        description:
          'One provider with the areas containing it. The ETag is its version, for If-Match on PATCH and DELETE.' + MASKING,
        params: ProviderIdParams,
        response: { 200: Provider, ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => withEtag(reply, await providers.get(request.params.id, viewerOf(request.caller))),
  )

  app.patch(
    '/:id',
    {
      config: { access: 'writer' },
      schema: {
        tags,
        summary: 'Update a provider',
        description:
          'Partial update: fields left out stay as they are, nested objects (location, eligibility, verification) ' +
          'are replaced whole, null clears a nullable field. Bumps version. Send If-Match with the ETag of your last ' +
          'read to fail with 412 instead of overwriting someone else’s change. A closed provider may be re-opened by status. ' +
          'organisation_id transfers the provider to another organisation (admins only). location_visibility null ' +
          'goes back to the default for its categories.' +
          OWNERSHIP,
        params: ProviderIdParams,
        headers: IfMatchHeaders,
        body: ProviderPatch,
        response: { 200: Provider, ...problemResponses(400, 403, 404, 412, 413, 422) },
      },
    },
    async (request, reply) =>
      withEtag(reply, await providers.update(request.params.id, request.body, actorOf(request), request.headers['if-match'])),
  )

  app.delete(
    '/:id',
    {
      config: { access: 'writer' },
      schema: {
        tags,
        summary: 'Close a provider',
        description:
          'Providers are never deleted: this sets status to closed (bumping version) and answers the provider. ' +
          'Closing a closed provider changes nothing. Send If-Match with the ETag of your last read to fail with 412 ' +
          'if it changed since.' +
          OWNERSHIP,
        params: ProviderIdParams,
        headers: IfMatchHeaders,
        response: { 200: Provider, ...problemResponses(400, 403, 404, 412) },
      },
    },
    async (request, reply) =>
      withEtag(reply, await providers.close(request.params.id, actorOf(request), request.headers['if-match'])),
  )
}
