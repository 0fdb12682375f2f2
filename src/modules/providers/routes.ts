import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Db } from '../../db/client.js'

// Placeholder until the providers module lands.
export const providerRoutes: FastifyPluginAsyncZod<{ db: Db }> = async () => {}
