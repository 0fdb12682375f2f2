import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { problemResponses } from '../../lib/problem.js'
import { AuditPage, AuditQuery, HistoryQuery, ProviderIdParams } from './schemas.js'
import type { AuditService } from './service.js'

const entryDescription =
  'Each entry says when, which key (its id, prefix, organisation and role), the request id, the entity and its id, ' +
  'the action, and the row before and after the change, written by the database in the transaction that made it.'

export const auditRoutes: FastifyPluginAsyncZod<{ audit: AuditService }> = async (app, { audit }) => {
  app.get(
    '/',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['access'],
        summary: 'The audit trail',
        description:
          `Every write to providers, referral links, MOUs, API keys and organisations. ${entryDescription} ` +
          'Newest first unless order=oldest. Filters: entity, entity_id, org (the acting key’s organisation), ' +
          'since (inclusive) and until (exclusive).',
        querystring: AuditQuery,
        response: { 200: AuditPage, ...problemResponses(400) },
      },
    },
    (request) => audit.list(request.caller, request.query),
  )
}

/** GET /v1/providers/{id}/history, registered under the providers prefix as its own plugin. */
export const providerHistoryRoutes: FastifyPluginAsyncZod<{ audit: AuditService }> = async (app, { audit }) => {
  app.get(
    '/:id/history',
    {
      config: { access: 'reader' },
      schema: {
        tags: ['providers'],
        summary: 'History of a provider',
        description:
          `Every change to the provider, newest first unless order=oldest. ${entryDescription} ` +
          'For admins, analysts and keys of the organisation that owns the provider (other keys: 403). Callers who ' +
          'may not see the provider’s exact location (e.g. its organisation’s viewers) get the snapshots masked like ' +
          'the provider itself: an approximate or no location, and no address.',
        params: ProviderIdParams,
        querystring: HistoryQuery,
        response: { 200: AuditPage, ...problemResponses(400, 404) },
      },
    },
    (request) => audit.providerHistory(request.caller, request.params.id, request.query),
  )
}
