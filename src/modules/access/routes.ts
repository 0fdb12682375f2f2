import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { IfMatchHeaders } from '../../lib/if-match.js'
import { problemResponses } from '../../lib/problem.js'
import { actorOf } from './actor.js'
import {
  ApiKey,
  ApiKeyPage,
  CreateApiKey,
  CreatedApiKey,
  CreateOrganisation,
  KeyIdParams,
  ListKeysQuery,
  ListOrganisationsQuery,
  Organisation,
  OrganisationIdParams,
  OrganisationPage,
} from './schemas.js'
import type { AccessService } from './service.js'

const tags = ['access']
const admin = { access: 'admin' } as const

export const keyRoutes: FastifyPluginAsyncZod<{ access: AccessService }> = async (app, { access }) => {
  app.post(
    '/',
    {
      // The answer holds the key, which must never be stored, so it cannot be kept for a retry.
      config: { ...admin, idempotency: false },
      schema: {
        tags,
        summary: 'Create an API key',
        description:
          'A key for an organisation (by organisation_id or by name; it must exist: 422 otherwise) with one role. ' +
          'The answer carries the key itself in `key`, the only time it is shown: setu keeps only its SHA-256 hash. ' +
          'areas limits an editor key to providers inside those areas (each must exist: 422; other roles: 422). ' +
          'Idempotency-Key is not honoured here: the answer holds the secret, which setu never stores; after a failed ' +
          'attempt, list the keys and revoke a stray one.',
        body: CreateApiKey,
        response: { 201: CreatedApiKey, ...problemResponses(400, 422) },
      },
    },
    async (request, reply) => {
      const key = await access.createKey(actorOf(request), request.body)
      return reply.status(201).header('location', `/v1/keys/${key.id}`).header('etag', `"${key.version}"`).send(key)
    },
  )

  app.get(
    '/',
    {
      config: admin,
      schema: {
        tags,
        summary: 'List API keys',
        description: 'Every key, revoked ones included, oldest first; never the secrets (they are not stored).',
        querystring: ListKeysQuery,
        response: { 200: ApiKeyPage, ...problemResponses(400) },
      },
    },
    (request) => access.listKeys(request.query),
  )

  app.get(
    '/:id',
    {
      config: admin,
      schema: {
        tags,
        summary: 'One API key',
        description: 'The key without its secret. The ETag is the version.',
        params: KeyIdParams,
        response: { 200: ApiKey, ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const key = await access.getKey(request.params.id)
      return reply.header('etag', `"${key.version}"`).send(key)
    },
  )

  app.delete(
    '/:id',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Revoke an API key',
        description:
          'Revokes the key: this server refuses it (401) at once, every other server process within 4 seconds. ' +
          'Revoking a revoked key answers it unchanged (so a retry succeeds, whatever its If-Match). ' +
          'With If-Match, a stale version of a key still in use is a 412.',
        params: KeyIdParams,
        headers: IfMatchHeaders,
        response: { 200: ApiKey, ...problemResponses(400, 404, 412) },
      },
    },
    async (request, reply) => {
      const key = await access.revokeKey(actorOf(request), request.params.id, request.headers['if-match'])
      return reply.header('etag', `"${key.version}"`).send(key)
    },
  )
}

export const organisationRoutes: FastifyPluginAsyncZod<{ access: AccessService }> = async (app, { access }) => {
  app.get(
    '/',
    {
      config: admin,
      schema: {
        tags,
        summary: 'List organisations',
        description: 'Organisations by name.',
        querystring: ListOrganisationsQuery,
        response: { 200: OrganisationPage, ...problemResponses(400) },
      },
    },
    (request) => access.listOrganisations(request.query),
  )

  app.post(
    '/',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Create an organisation',
        description: 'A partner that will own providers and hold keys. A name already taken is a 409.',
        body: CreateOrganisation,
        response: { 201: Organisation, ...problemResponses(400, 409) },
      },
    },
    async (request, reply) => {
      const organisation = await access.createOrganisation(actorOf(request), request.body.name)
      return reply
        .status(201)
        .header('location', `/v1/organisations/${organisation.id}`)
        .header('etag', `"${organisation.version}"`)
        .send(organisation)
    },
  )

  app.get(
    '/:id',
    {
      config: admin,
      schema: {
        tags,
        summary: 'One organisation',
        description: 'The ETag is the version.',
        params: OrganisationIdParams,
        response: { 200: Organisation, ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const organisation = await access.getOrganisation(request.params.id)
      return reply.header('etag', `"${organisation.version}"`).send(organisation)
    },
  )
}
