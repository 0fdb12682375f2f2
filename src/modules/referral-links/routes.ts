import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { featureCollection, FeatureCollection, GEOJSON_MEDIA_TYPE, wantsGeoJson } from '../../lib/geojson.js'
import { problemResponses } from '../../lib/problem.js'
import { actorOf } from '../access/actor.js'
import { viewerOf } from '../access/roles.js'
import {
  CreateReferralLink,
  IfMatchHeaders,
  LinkIdParams,
  ListReferralLinksQuery,
  PatchReferralLink,
  ProviderIdParams,
  ProviderLinksQuery,
  ProviderReferralLinkPage,
  ReferralLink,
  ReferralLinkPage,
} from './schemas.js'
import type { ReferralLinksService } from './service.js'

/**
 * A link as a GeoJSON LineString from the referring to the receiving provider (lon/lat order), between the points
 * its ends show the caller (masked ones included); no geometry when either end shows none.
 */
export function linksAsGeoJson(page: { items: ReferralLink[]; next_cursor: string | null }) {
  return featureCollection(
    page.items,
    ({ from_provider: { location: from }, to_provider: { location: to } }) =>
      from && to ? { type: 'LineString', coordinates: [[from.lon, from.lat], [to.lon, to.lat]] } : null,
    (l) => ({ ...l }),
    page.next_cursor,
  )
}

const geoJsonNote =
  ' With `Accept: application/geo+json` or `format=geojson` the answer is a FeatureCollection of LineStrings from the ' +
  'referring to the receiving provider, each with the link as its properties; a line ends at the point each end shows ' +
  'you (approximate for a masked provider), and a link with a hidden end has `geometry: null`.'

const maskingNote =
  ' Confidential providers at either end are shown masked (LinkEnd) unless you are an admin, an analyst or an editor ' +
  'of their organisation.'

const ownershipNote =
  ' A link belongs to the organisation of its referring (from) provider: an editor writes only links from its own ' +
  'organisation’s providers (inside its areas, when its key is limited to some), to any provider; otherwise 403 and ' +
  'nothing is written.'

export const referralLinkRoutes: FastifyPluginAsyncZod<{ links: ReferralLinksService }> = async (app, { links }) => {
  app.post(
    '/',
    {
      config: { access: 'writer' },
      schema: {
        tags: ['referral-links'],
        summary: 'Record a referral link',
        description:
          'A directed link along which one provider refers survivors to another. One link per (from, to) pair. Refused: ' +
          'a self-link (422), an unknown provider (422), an existing pair (409, naming the existing link), a closed end (409), ' +
          'a category the receiving provider does not offer (422, listing them).' + ownershipNote,
        body: CreateReferralLink,
        response: { 201: ReferralLink, ...problemResponses(400, 403, 409, 422) },
      },
    },
    async (req, reply) => {
      const link = await links.createLink(req.body, actorOf(req))
      return reply.status(201).header('location', `/v1/referral-links/${link.id}`).header('etag', `"${link.version}"`).send(link)
    },
  )

  app.get(
    '/',
    {
      config: { access: 'reader' },
      schema: {
        tags: ['referral-links'],
        summary: 'List referral links',
        description:
          'Referral links with their health, computed on read. Filters combine with AND; `area` matches links with either ' +
          'end inside the area, `health` filters on the computed health.' + maskingNote + geoJsonNote,
        querystring: ListReferralLinksQuery,
        response: {
          200: {
            description: 'A page of referral links',
            content: {
              'application/json': { schema: ReferralLinkPage },
              'application/geo+json': { schema: FeatureCollection },
            },
          },
          ...problemResponses(400),
        },
      },
    },
    async (req, reply) => {
      const page = await links.listLinks(req.query, viewerOf(req.caller))
      if (wantsGeoJson(req, req.query.format)) return reply.type(GEOJSON_MEDIA_TYPE).send(linksAsGeoJson(page))
      return reply.type('application/json').send(page)
    },
  )

  app.get(
    '/:id',
    {
      config: { access: 'reader' },
      schema: {
        tags: ['referral-links'],
        summary: 'One referral link',
        description:
          'The link with its health and every reason for it. The ETag is the version, for If-Match on PATCH.' + maskingNote,
        params: LinkIdParams,
        response: { 200: ReferralLink, ...problemResponses(400, 404) },
      },
    },
    async (req, reply) => {
      const link = await links.getLink(req.params.id, viewerOf(req.caller))
      return reply.header('etag', `"${link.version}"`).send(link)
    },
  )

  app.patch(
    '/:id',
    {
      config: { access: 'writer' },
      schema: {
        tags: ['referral-links'],
        summary: 'Change a referral link',
        description:
          'Changes categories, basis, status, dates or notes; the ends of a link never change (record a new link). ' +
          'With If-Match, a version other than the current one is a 412. Categories the receiving provider does not offer ' +
          'are a 422; making a link active again while an end is closed is a 409.' + ownershipNote,
        params: LinkIdParams,
        headers: IfMatchHeaders,
        body: PatchReferralLink,
        response: { 200: ReferralLink, ...problemResponses(400, 403, 404, 409, 412, 422) },
      },
    },
    async (req, reply) => {
      const link = await links.patchLink(req.params.id, req.body, req.headers['if-match'], actorOf(req))
      return reply.header('etag', `"${link.version}"`).send(link)
    },
  )
}

/** GET /v1/providers/{id}/referral-links, registered under the providers prefix as its own plugin. */
export const providerReferralLinkRoutes: FastifyPluginAsyncZod<{ links: ReferralLinksService }> = async (app, { links }) => {
  app.get(
    '/:id/referral-links',
    {
      config: { access: 'reader' },
      schema: {
        tags: ['referral-links'],
        summary: "A provider's incoming and outgoing referral links",
        description:
          'Every link with the provider at either end, each marked `direction`: incoming (the provider receives) or ' +
          'outgoing (the provider refers). Unknown provider: 404.' + maskingNote + geoJsonNote,
        params: ProviderIdParams,
        querystring: ProviderLinksQuery,
        response: {
          200: {
            description: 'A page of the provider’s referral links',
            content: {
              'application/json': { schema: ProviderReferralLinkPage },
              'application/geo+json': { schema: FeatureCollection },
            },
          },
          ...problemResponses(400, 404),
        },
      },
    },
    async (req, reply) => {
      const page = await links.listProviderLinks(req.params.id, req.query, viewerOf(req.caller))
      if (wantsGeoJson(req, req.query.format)) return reply.type(GEOJSON_MEDIA_TYPE).send(linksAsGeoJson(page))
      return reply.type('application/json').send(page)
    },
  )
}
