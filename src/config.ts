import { z } from 'zod'

const Env = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Largest accepted request body; bulk imports of 5,000 providers need a few MB.
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  // Requests per minute per client address; 0 turns rate limiting off.
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(600),
  // Load the demo data set into an empty database on start.
  SEED_DEMO: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
})

export type Config = z.infer<typeof Env>

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(env)
  if (!parsed.success) throw new Error(`Invalid environment:\n${z.prettifyError(parsed.error)}`)
  return parsed.data
}
