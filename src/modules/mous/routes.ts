import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { problemResponses } from '../../lib/problem.js'
import { IfMatchHeaders } from '../../lib/if-match.js'
import { actorOf } from '../access/actor.js'
import { CreateMou, ListMousQuery, Mou, MouHistory, MouIdParams, MouPage, PatchMou, ProviderIdParams } from './schemas.js'
import type { MousService } from './service.js'

const transitions =
  'Transitions: draft → negotiating | signed | terminated; negotiating → draft | signed | terminated; ' +
  'signed → expired | terminated; nothing leaves expired or terminated (409 naming from and to). ' +
  'signed and expired need signed_on (422). A signed MOU whose expires_on has passed reads as expired everywhere, ' +
  'with no job having to run; it is renewed only by a new MOU with renews_mou_id.'

const ownershipNote =
  ' An MOU belongs to its provider’s organisation: an editor writes only MOUs of its own organisation’s providers ' +
  '(inside its areas, when its key is limited to some); otherwise 403 and nothing is written.'

export const mouRoutes: FastifyPluginAsyncZod<{ mous: MousService }> = async (app, { mous }) => {
  app.get(
    '/',
    {
      config: { access: 'reader' },
      schema: {
        tags: ['mous'],
        summary: 'List MOUs',
        description:
          'MOUs with their effective status. `status` filters on the effective status; `area` matches MOUs of providers ' +
          'inside the area or with a counterparty of that area; `expiring_within_days` lists signed MOUs whose expires_on ' +
          'falls between today and today + N days.',
        querystring: ListMousQuery,
        response: { 200: MouPage, ...problemResponses(400) },
      },
    },
    (req) => mous.listMous(req.query),
  )

  app.get(
    '/:id',
    {
      config: { access: 'reader' },
      schema: {
        tags: ['mous'],
        summary: 'One MOU',
        description: 'The MOU with its effective status and the status last recorded. The ETag is the version.',
        params: MouIdParams,
        response: { 200: Mou, ...problemResponses(400, 404) },
      },
    },
    async (req, reply) => {
      const mou = await mous.getMou(req.params.id)
      return reply.header('etag', `"${mou.version}"`).send(mou)
    },
  )

  app.patch(
    '/:id',
    {
      config: { access: 'writer' },
      schema: {
        tags: ['mous'],
        summary: 'Change an MOU',
        description:
          `Changes fields or the status of an MOU; every change is kept in its history, with who made it. ${transitions} ` +
          'With If-Match, a stale version is a 412.' + ownershipNote,
        params: MouIdParams,
        headers: IfMatchHeaders,
        body: PatchMou,
        response: { 200: Mou, ...problemResponses(400, 403, 404, 409, 412, 422) },
      },
    },
    async (req, reply) => {
      const mou = await mous.patchMou(req.params.id, req.body, req.headers['if-match'], actorOf(req))
      return reply.header('etag', `"${mou.version}"`).send(mou)
    },
  )

  app.get(
    '/:id/history',
    {
      config: { access: 'reader' },
      schema: {
        tags: ['mous'],
        summary: 'History of an MOU',
        description:
          'Every change, oldest first, from creation on: the status after it, whether the status changed, the fields set ' +
          'and when, and who made it (`changed_by`: the API key, its organisation and role; null for changes made outside ' +
          'the API, such as the demo loader). When a signed MOU has expired by date, a last entry ' +
          'with derived: true shows the expiry on the day after expires_on. The history is never paginated (next_cursor is null).',
        params: MouIdParams,
        response: { 200: MouHistory, ...problemResponses(400, 404) },
      },
    },
    (req) => mous.history(req.params.id),
  )
}

/** POST /v1/providers/{id}/mous, registered under the providers prefix as its own plugin. */
export const providerMouRoutes: FastifyPluginAsyncZod<{ mous: MousService }> = async (app, { mous }) => {
  app.post(
    '/:id/mous',
    {
      config: { access: 'writer' },
      schema: {
        tags: ['mous'],
        summary: 'Record an MOU of a provider',
        description:
          `An agreement between the provider and a counterparty (a ministry, a district administration…), by default a draft. ${transitions} ` +
          'renews_mou_id must name an expired MOU of the same provider (422 when it is another provider’s or missing, 409 when it is not expired). ' +
          'Unknown provider: 404; unknown counterparty_area: 422.' + ownershipNote,
        params: ProviderIdParams,
        body: CreateMou,
        response: { 201: Mou, ...problemResponses(400, 403, 404, 409, 422) },
      },
    },
    async (req, reply) => {
      const mou = await mous.createMou(req.params.id, req.body, actorOf(req))
      return reply.status(201).header('location', `/v1/mous/${mou.id}`).header('etag', `"${mou.version}"`).send(mou)
    },
  )
}
