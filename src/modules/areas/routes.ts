import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Db } from '../../db/client.js'

// Placeholder until the areas module lands.
export const areaRoutes: FastifyPluginAsyncZod<{ db: Db }> = async () => {}
