import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import cors from '@fastify/cors'
import rateLimit from '@fastify/rate-limit'
import helmet from 'helmet'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod'
import type { Config } from './config.js'
import type { Db } from './db/client.js'
import { documentCommonProblems, frameworkErrorProblem, registerProblemHandlers } from './lib/problem.js'
import { createLogger, RequestLogController } from './logging.js'
import { registerIdempotency } from './lib/idempotency.js'
import { REQUEST_ID_HEADER, requestIdOf } from './lib/request-id.js'
import type { Logger } from 'pino'
import { openapiDocument } from './openapi.js'
import { systemRoutes } from './modules/system/routes.js'
import { apiIndexRoutes } from './modules/api-index/routes.js'
import { areaRoutes } from './modules/areas/routes.js'
import { providerRoutes } from './modules/providers/routes.js'
import { importRoutes } from './modules/import/routes.js'
import { statsRoutes } from './modules/stats/routes.js'
import { exportRoutes } from './modules/export/routes.js'
import { referralLinksService } from './modules/referral-links/service.js'
import { providerReferralLinkRoutes, referralLinkRoutes } from './modules/referral-links/routes.js'
import { mousService } from './modules/mous/service.js'
import { mouRoutes, providerMouRoutes } from './modules/mous/routes.js'
import { pathwaysService } from './modules/pathways/service.js'
import { pathwayRoutes } from './modules/pathways/routes.js'
import { networkService } from './modules/network/service.js'
import { areaNetworkRoutes } from './modules/network/routes.js'
import { keyAuthenticator, type KeyAuthenticator } from './modules/access/authenticate.js'
import { registerAccessControl } from './modules/access/policy.js'
import { accessService } from './modules/access/service.js'
import { keyRoutes, organisationRoutes } from './modules/access/routes.js'
import { auditService } from './modules/audit/service.js'
import { auditRoutes, providerHistoryRoutes } from './modules/audit/routes.js'
import { coverageService } from './modules/coverage/service.js'
import { coverageRoutes } from './modules/coverage/routes.js'
import { pageRoutes } from './modules/page/routes.js'
import { tileRoutes } from './modules/tiles/routes.js'

export interface AppDeps {
  db: Db
  /** The process's logger (server.ts); by default one at LOG_LEVEL writing to stdout. */
  logger?: Logger
  /** How API keys are verified; by default against db with a few seconds' cache (authenticate.ts). */
  authenticator?: KeyAuthenticator
}

export type AppConfig = Pick<Config, 'LOG_LEVEL' | 'BODY_LIMIT_BYTES' | 'RATE_LIMIT_PER_MINUTE'> &
  Partial<Pick<Config, 'LINK_AT_RISK_DAYS' | 'VERIFICATION_STALE_MONTHS' | 'CORS_ORIGINS' | 'TRUST_PROXY'>>

export async function buildApp(config: AppConfig, { db, logger, authenticator = keyAuthenticator(db) }: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // Silent and no logger given (tests): Fastify's no-op logger, which builds no child logger per request.
    ...(logger || config.LOG_LEVEL !== 'silent'
      ? { loggerInstance: (logger ?? createLogger(config.LOG_LEVEL)) as FastifyBaseLogger }
      : { logger: false }),
    logController: new RequestLogController(config.LOG_LEVEL),
    bodyLimit: config.BODY_LIMIT_BYTES,
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors: frameworkErrorProblem,
    requestIdHeader: false,
    genReqId: requestIdOf,
    trustProxy: config.TRUST_PROXY ?? false,
  }).withTypeProvider<ZodTypeProvider>()

  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  registerProblemHandlers(app)
  documentCommonProblems(app)

  // The API serves JSON; the only HTML is /docs, whose bundled Swagger UI needs inline scripts. With these options
  // helmet's headers depend on nothing in the request, so they are worked out once (@fastify/helmet built helmet
  // anew for every request, a fifth of the nearest hot path's time in Node). First of all hooks, so that a refused
  // request (401, 403, 429) carries them too.
  const probe = new ServerResponse(new IncomingMessage(new Socket()))
  helmet({ contentSecurityPolicy: false })(probe.req, probe, () => {})
  const securityHeaders = probe.getHeaders()
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(securityHeaders).header(REQUEST_ID_HEADER, request.id)
    done()
  })
  // Before authentication: a browser's preflight carries no key and is answered here; refusals carry the CORS headers.
  if (config.CORS_ORIGINS?.length) {
    await app.register(cors, {
      origin: config.CORS_ORIGINS,
      methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'If-Match', 'Idempotency-Key', 'X-Request-Id'],
      exposedHeaders: ['X-Request-Id', 'ETag', 'Location', 'Retry-After', 'Idempotent-Replayed'],
      maxAge: 600,
      strictPreflight: false,
    })
  }
  registerAccessControl(app, authenticator)
  registerIdempotency(app, db)
  // Its hook is each route's own, and fastify runs those after the instance's onRequest hooks: request.caller is known,
  // so a key has a budget of its own wherever it is used from, and requests without a key share their address's.
  // Requests the access hook refuses (401, 403) never reach it and are not counted.
  if (config.RATE_LIMIT_PER_MINUTE > 0) {
    await app.register(rateLimit, {
      max: config.RATE_LIMIT_PER_MINUTE,
      timeWindow: '1 minute',
      keyGenerator: (request) => (request.caller?.kind === 'key' ? `key:${request.caller.keyId}` : `ip:${request.ip}`),
    })
  }

  await app.register(swagger, {
    openapi: openapiDocument,
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  await app.register(systemRoutes, { db })
  await app.register(apiIndexRoutes)
  await app.register(pageRoutes)
  await app.register(areaRoutes, { prefix: '/v1/areas', db })
  await app.register(providerRoutes, { prefix: '/v1/providers', db })
  await app.register(importRoutes, { prefix: '/v1/providers', db })
  await app.register(exportRoutes, { prefix: '/v1/providers', db })

  const health = { atRiskDays: config.LINK_AT_RISK_DAYS ?? 60, staleMonths: config.VERIFICATION_STALE_MONTHS ?? 12 }
  const links = referralLinksService(db, health)
  const mous = mousService(db)
  await app.register(referralLinkRoutes, { prefix: '/v1/referral-links', links })
  await app.register(providerReferralLinkRoutes, { prefix: '/v1/providers', links })
  await app.register(mouRoutes, { prefix: '/v1/mous', mous })
  await app.register(providerMouRoutes, { prefix: '/v1/providers', mous })
  await app.register(pathwayRoutes, { prefix: '/v1/pathways', pathways: pathwaysService(db, links, health) })
  await app.register(areaNetworkRoutes, { prefix: '/v1/areas', network: networkService(db, links) })
  await app.register(statsRoutes, { prefix: '/v1/stats', db, staleMonths: health.staleMonths })

  const access = accessService(db, { forget: () => authenticator.forget() })
  await app.register(keyRoutes, { prefix: '/v1/keys', access })
  await app.register(organisationRoutes, { prefix: '/v1/organisations', access })
  const audit = auditService(db)
  await app.register(auditRoutes, { prefix: '/v1/audit', audit })
  await app.register(providerHistoryRoutes, { prefix: '/v1/providers', audit })
  await app.register(coverageRoutes, { prefix: '/v1/coverage', coverage: coverageService(db, { staleMonths: health.staleMonths }) })
  await app.register(tileRoutes, { prefix: '/v1/tiles', db })

  return app
}
