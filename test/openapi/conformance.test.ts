// The response-conformance hook itself: it must report drift, and only drift.
import type { FastifyReply } from 'fastify'
import t from 'tap'
import { z } from 'zod'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { buildTestApp } from '../helpers/app.js'
import { ConformanceError, conformanceChecker, conformanceOf, type OpenApiDocument } from '../helpers/conformance.js'

const doc: OpenApiDocument = {
  paths: {
    '/things/{id}': {
      get: {
        responses: {
          200: {
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/Thing' } },
              'text/html': { schema: { type: 'string' } },
            },
          },
          404: { content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
        },
      },
      delete: { responses: { 204: {}, default: { content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } } } },
    },
  },
  components: {
    schemas: {
      Thing: {
        type: 'object',
        properties: { id: { type: 'string', format: 'uuid' }, n: { type: 'integer' }, on: { type: 'string', format: 'date' } },
        required: ['id', 'n'],
        additionalProperties: false,
      },
      Problem: {
        type: 'object',
        properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' } },
        required: ['type', 'title', 'status'],
      },
    },
  },
}

const id = '0b7e3a52-52f4-4c57-9a53-1f6f0d3b8f11'
const get = (status: number, contentType: string | undefined, body: unknown) => ({
  method: 'GET',
  route: '/things/:id',
  status,
  contentType,
  body: typeof body === 'string' ? body : JSON.stringify(body),
})

t.test('the checker accepts what the document promises', async (t) => {
  const check = conformanceChecker(doc)
  t.equal(check(get(200, 'application/json; charset=utf-8', { id, n: 3, on: '2024-02-29' })), undefined)
  t.equal(check(get(200, 'text/html', '<!doctype html><p>not JSON, only the type is checked')), undefined)
  t.equal(check(get(404, 'application/problem+json', { type: 'about:blank', title: 'Not Found', status: 404 })), undefined)
  t.equal(check({ method: 'HEAD', route: '/things/:id', status: 200, contentType: 'application/json', body: '' }), undefined, 'HEAD is the GET without a body')
  t.equal(check({ method: 'DELETE', route: '/things/:id/', status: 204, contentType: undefined, body: '' }), undefined)
  t.equal(check({ method: 'DELETE', route: '/things/:id', status: 409, contentType: 'application/problem+json', body: '{"type":"x","title":"y","status":409}' }), undefined, 'default covers other statuses')
  t.equal(check({ method: 'GET', route: undefined, status: 404, contentType: 'application/problem+json', body: '{"type":"x","title":"y","status":404}' }), undefined, 'no route: a problem')
})

t.test('the checker names the drift: status, content type, body', async (t) => {
  const check = conformanceChecker(doc)
  t.match(check(get(500, 'application/problem+json', { type: 'x', title: 'y', status: 500 })), {
    method: 'GET',
    route: '/things/{id}',
    status: 500,
    problems: [/status 500 is not documented \(documented: 200, 404\)/],
  })
  t.match(check(get(404, 'application/json', { type: 'x', title: 'y', status: 404 })), {
    contentType: 'application/json',
    problems: [/content type application\/json is not documented for 404 \(documented: application\/problem\+json\)/],
  })
  t.same(check(get(404, 'application/json', { title: 'y', status: 404 }))?.problems, [
    'content type application/json is not documented for 404 (documented: application/problem+json)',
    "body must have required property 'type' (against the application/problem+json schema)",
  ], 'a wrong content type does not hide a wrong body')
  const bad = check(get(200, 'application/json', { id: 'nope', n: 1.5, extra: true }))
  t.match(bad?.problems, ['body must NOT have additional properties (extra)', 'body/id must match format "uuid"', 'body/n must be integer'])
  t.match(check(get(200, 'application/json', { id, n: 1, on: '2024-02-30' }))?.problems, [/body\/on must match format "date"/])
  t.match(check(get(200, 'application/json', '{"id":')), { problems: [/the body is not JSON/] })
  t.match(check({ method: 'DELETE', route: '/things/:id', status: 204, contentType: 'application/json', body: '{}' }), {
    problems: [/status 204 documents no content/],
  })
  t.match(check({ method: 'POST', route: '/things/:id', status: 201, contentType: 'application/json', body: '{}' }), {
    problems: ['the operation is not in the document'],
  })
  t.match(check({ method: 'GET', route: undefined, status: 404, contentType: 'text/plain', body: 'Not Found' }), {
    route: '(no route)',
    problems: [/content type text\/plain is not documented/],
  })
})

t.test('buildTestApp fails the inject whose response breaks the document', async (t) => {
  const { app } = await buildTestApp(t)
  const Thing = z.object({ n: z.number() })
  const schema = { params: z.object({ id: z.string() }), response: { 200: Thing } }
  app.withTypeProvider<ZodTypeProvider>().get('/v1/conformance-test/fine/:id', { schema }, async () => ({ n: 1 }))
  // These bypass the route's serializer, as a handler that sends a hand-built body does.
  const json = (reply: FastifyReply) => reply.type('application/json').serializer(JSON.stringify)
  app.get('/v1/conformance-test/wrong-body/:id', { schema }, async (_req, reply) => json(reply).send({ n: 'one' }))
  app.get('/v1/conformance-test/teapot/:id', { schema }, async (_req, reply) => json(reply).code(418).send({ n: 1 }))
  app.get('/v1/conformance-test/text/:id', { schema }, async (_req, reply) => reply.type('text/plain').serializer(String).send('1'))
  app.get('/v1/conformance-test/hidden', { schema: { hide: true } }, async (_req, reply) => reply.code(299).send('anything'))

  const fine = await app.inject({ url: '/v1/conformance-test/fine/7' })
  t.equal(fine.statusCode, 200)

  await t.rejects(app.inject({ url: '/v1/conformance-test/wrong-body/7' }), {
    name: 'ConformanceError',
    message: /GET \/v1\/conformance-test\/wrong-body\/\{id\} → 200 application\/json does not match \/openapi\.json:\n {2}- body\/n must be number/,
  })
  await t.rejects(app.inject({ url: '/v1/conformance-test/teapot/7' }), {
    message: /GET \/v1\/conformance-test\/teapot\/\{id\} → 418 application\/json .*\n {2}- status 418 is not documented/,
  })
  await t.rejects(app.inject({ url: '/v1/conformance-test/text/7' }), {
    message: /→ 200 text\/plain .*\n {2}- content type text\/plain is not documented for 200 \(documented: application\/json\)/,
  })
  t.equal((await app.inject({ url: '/v1/conformance-test/hidden' })).statusCode, 299, 'a hidden route is not checked')
  t.equal((await app.inject({ url: '/no/such/route' })).statusCode, 404, 'the not-found problem conforms')
  t.equal((await app.inject({ method: 'HEAD', url: '/v1/conformance-test/fine/7' })).statusCode, 200)

  const conformance = conformanceOf(app)
  t.same(conformance.take().map((v) => v.status), [200, 418, 200], 'every violation is kept')
  conformance.throwOnViolation = false
  const collected = await app.inject({ url: '/v1/conformance-test/teapot/7' })
  t.equal(collected.statusCode, 418, 'collecting instead of throwing hands the response back')
  const [violation] = conformance.take()
  t.ok(violation && new ConformanceError(violation).message.includes('status 418 is not documented'))
})
