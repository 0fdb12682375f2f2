import { z } from 'zod'

function isTimeZone(zone: string) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

const Env = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Largest accepted request body; bulk imports of 5,000 providers need a few MB.
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  // Requests per minute per client address; 0 turns rate limiting off.
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(600),
  // A referral link is at risk when an MOU it rests on, or an end's funding, ends within this many days.
  LINK_AT_RISK_DAYS: z.coerce.number().int().min(0).max(3650).default(60),
  // A referral link is broken when an end has not been verified for more than this many months.
  VERIFICATION_STALE_MONTHS: z.coerce.number().int().min(1).max(120).default(12),
  // The calendar that decides "today" for MOU expiry, funding ends and verification age (an IANA zone, e.g.
  // Asia/Dhaka). Set on every database connection, so the answer does not depend on the server's settings.
  TIME_ZONE: z
    .string()
    .default('UTC')
    .refine(isTimeZone, { message: 'must be an IANA time zone such as UTC, Asia/Dhaka or Asia/Phnom_Penh' }),
  // Largest number of connections the server holds to PostgreSQL.
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  // How long a request may wait for a database connection (opening one, or for a busy pool to free one)
  // before it answers 503: bounds every request while the database is unreachable or overloaded.
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5000),
  // The longest one SQL statement of a request may run before PostgreSQL cancels it (a 503 problem), so one
  // expensive request cannot hold a pooled connection; 0 turns it off.
  STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
  // Load the demo data set into an empty database on start. Unset: only into the private cluster, so that
  // pointing DATABASE_URL at a real, empty database never fills it with fictitious providers.
  SEED_DEMO: z.enum(['true', 'false']).optional(),
  // How long a shutdown (SIGTERM, SIGINT) waits for requests in flight before the process exits anyway.
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
}).transform(({ SEED_DEMO, ...env }) => ({
  ...env,
  SEED_DEMO: SEED_DEMO === undefined ? env.DATABASE_URL === undefined : SEED_DEMO === 'true',
}))

export type Config = z.infer<typeof Env>

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(env)
  if (!parsed.success) throw new Error(`Invalid environment:\n${z.prettifyError(parsed.error)}`)
  return parsed.data
}
