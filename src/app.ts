import Fastify, { type FastifyInstance } from 'fastify'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
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
import { registerProblemHandlers } from './lib/problem.js'
import { openapiDocument } from './openapi.js'
import { systemRoutes } from './modules/system/routes.js'
import { areaRoutes } from './modules/areas/routes.js'
import { providerRoutes } from './modules/providers/routes.js'

export interface AppDeps {
  db: Db
}

export type AppConfig = Pick<Config, 'LOG_LEVEL' | 'BODY_LIMIT_BYTES' | 'RATE_LIMIT_PER_MINUTE'>

export async function buildApp(config: AppConfig, { db }: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: config.LOG_LEVEL === 'silent' ? false : { level: config.LOG_LEVEL },
    bodyLimit: config.BODY_LIMIT_BYTES,
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>()

  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  registerProblemHandlers(app)

  // The API serves JSON; the only HTML is /docs, whose bundled Swagger UI needs inline scripts.
  await app.register(helmet, { contentSecurityPolicy: false })
  if (config.RATE_LIMIT_PER_MINUTE > 0) {
    await app.register(rateLimit, { max: config.RATE_LIMIT_PER_MINUTE, timeWindow: '1 minute' })
  }

  await app.register(swagger, {
    openapi: openapiDocument,
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  await app.register(systemRoutes, { db })
  await app.register(areaRoutes, { prefix: '/v1/areas', db })
  await app.register(providerRoutes, { prefix: '/v1/providers', db })

  return app
}
