import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { problemResponses } from '../../lib/problem.js'
import { viewerOf } from '../access/roles.js'
import { AreaNetwork, NetworkParams } from './schemas.js'
import { NETWORK_LIMITS, NETWORK_STATEMENT_TIMEOUT_MS, NETWORK_TOO_LARGE, type NetworkService } from './service.js'

/** GET /v1/areas/{pcode}/network, registered under the areas prefix as its own plugin. */
export const areaNetworkRoutes: FastifyPluginAsyncZod<{ network: NetworkService }> = async (app, { network }) => {
  app.get(
    '/:pcode/network',
    {
      config: { access: 'reader' },
      schema: {
        tags: ['referral-links'],
        summary: 'The referral network of an area',
        description:
          'Nodes: providers inside the area (inside: true) and the providers linked to them (inside: false), each with its ' +
          'MOU status per category. Edges: every referral link with an end inside, with its health. Summary: categories no ' +
          'active provider inside offers; active providers inside (focal points excepted) with no active, non-broken incoming ' +
          'link; active focal points inside with no active outgoing link; categories no active provider inside has a current ' +
          'signed MOU for. Confidential providers are shown masked in nodes and edges (LinkEnd) unless you are an admin, ' +
          'an analyst or an editor of their organisation. Unknown pcode: 404. ' +
          `The network is answered whole, not paginated, for areas of at most ${NETWORK_LIMITS.providers} providers and ` +
          `${NETWORK_LIMITS.links} referral links touching them; a larger area (a whole division or province of a national directory may be) is a 422 ` +
          `problem of type ${NETWORK_TOO_LARGE}, with the exceeded \`limit\`: ask for its children ` +
          '(GET /v1/areas?parent={pcode}) instead. 503 while the database is unreachable or when reading the network ' +
          `takes longer than ${NETWORK_STATEMENT_TIMEOUT_MS / 1000} s.`,
        params: NetworkParams,
        response: { 200: AreaNetwork, ...problemResponses(400, 404, 422, 503) },
      },
    },
    (req) => network.areaNetwork(req.params.pcode, viewerOf(req.caller)),
  )
}
