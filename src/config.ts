import { isIP } from 'node:net'
import { z } from 'zod'

function isTimeZone(zone: string) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

/** `https://example.org` or `http://localhost:5173`: scheme, host and port only, as a browser sends it in Origin. */
function isOrigin(value: string) {
  try {
    const url = new URL(value)
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value
  } catch {
    return false
  }
}

const CorsOrigins = z
  .string()
  .default('')
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
  .pipe(
    z.array(
      z.string().refine(isOrigin, {
        error: (issue) =>
          `${JSON.stringify(issue.input)} is not an origin: write scheme, host and optional port, e.g. https://example.org ` +
          '(lower case, no path, no trailing slash, no *)',
      }),
    ),
  )

// proxy-addr (fastify's trustProxy) also knows these names for address ranges.
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])

function isProxyAddress(entry: string) {
  if (PROXY_RANGE_NAMES.has(entry)) return true
  const [address, bits, ...rest] = entry.split('/')
  const version = isIP(address)
  if (!version || rest.length) return false
  if (bits === undefined) return true
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128)
}

/**
 * fastify's trustProxy: false, true (any peer is a proxy: only when nothing but the proxy can reach the port), or the
 * proxies' addresses. Not a hop count: fastify 5 treats one as "trust nothing", since counting hops cannot tell the
 * proxy from a client that connects directly and writes its own X-Forwarded-For.
 */
const TrustProxy = z
  .string()
  .default('false')
  .transform((v, ctx): boolean | string[] => {
    const value = v.trim()
    if (value === 'false' || value === '') return false
    if (value === 'true') return true
    const entries = value.split(',').map((s) => s.trim()).filter(Boolean)
    const wrong = entries.filter((e) => !isProxyAddress(e))
    if (wrong.length) {
      ctx.addIssue({
        code: 'custom',
        message:
          'must be true, false, or a comma-separated list of the proxies\' addresses or ranges (10.0.0.1, 10.0.0.0/8, ' +
          `loopback); not ${wrong.map((w) => JSON.stringify(w)).join(', ')}` +
          (/^\d+$/.test(value) ? ' (a number of hops is not accepted: name the proxies instead)' : ''),
      })
      return z.NEVER
    }
    return entries
  })

const Env = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Largest accepted request body; bulk imports of 5,000 providers need a few MB.
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  // Requests per minute per API key (per client address for requests without a key); 0 turns rate limiting off.
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
  // Browser origins allowed to call the API (CORS), comma-separated; empty: CORS off, browsers on other sites
  // cannot read the answers.
  CORS_ORIGINS: CorsOrigins,
  // Which reverse proxies to believe about the client address (X-Forwarded-For): per-address rate limits are
  // only right behind a proxy when this names it.
  TRUST_PROXY: TrustProxy,
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
