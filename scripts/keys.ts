// npm run keys -- create|list|revoke: API keys from the server's own shell, e.g. the first admin key of a new
// installation. Works on DATABASE_URL or, when it is unset, the private cluster (migrated first, like the server).
// Results go to stdout as JSON, everything else to stderr, so that `npm run -s keys -- create …` can be piped.
import { parseArgs } from 'node:util'
import { z } from 'zod'
import { createDb, type Db } from '../src/db/client.js'
import { migrateDatabase } from '../src/db/migrate.js'
import { Problem } from '../src/lib/problem.js'
import { Text } from '../src/lib/text.js'
import type { Actor } from '../src/modules/access/actor.js'
import { KEY_CACHE_MS } from '../src/modules/access/authenticate.js'
import type { ApiKeyRow } from '../src/modules/access/keys.js'
import { Role } from '../src/modules/access/roles.js'
import { KeyAreas, OrganisationName } from '../src/modules/access/schemas.js'
import { accessService } from '../src/modules/access/service.js'
import { configOrExit, databaseOrExit, say } from './cli.js'

const USAGE = `usage:
  npm run keys -- create --org NAME --role admin|editor|analyst|viewer [--areas PCODE,…] [--label TEXT]
      creates the organisation when it does not exist, and prints the new key (shown this once) as JSON
  npm run keys -- list [--org NAME]
      prints every key, one JSON object a line, without secrets (setu does not keep them)
  npm run keys -- revoke ID
      revokes the key; running servers refuse it within ${KEY_CACHE_MS / 1000} seconds`

/** The keys command runs on the server itself: its writes are recorded with role cli and no key. */
const CLI: Actor = { caller: null }

type Command =
  | { name: 'create'; org: string; role: Role; areas?: string[]; label?: string }
  | { name: 'list'; org?: string }
  | { name: 'revoke'; id: string }

class UsageError extends Error {}

function valid<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw new UsageError(`${what}: ${parsed.error.issues.map((i) => i.message).join('; ')}`)
  return parsed.data
}

function parseCommand(argv: string[]): Command {
  const { values, positionals } = (() => {
    try {
      return parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          org: { type: 'string' },
          role: { type: 'string' },
          areas: { type: 'string' },
          label: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      })
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
  })()
  const [name, ...rest] = positionals
  const unexpected = (allowed: string[]) => {
    const extra = Object.keys(values).filter((k) => !allowed.includes(k))
    if (extra.length) throw new UsageError(`${name} takes no ${extra.map((k) => `--${k}`).join(', ')}`)
  }
  if (name === 'create') {
    if (rest.length) throw new UsageError(`create takes no arguments besides its options, not ${rest.join(' ')}`)
    unexpected(['org', 'role', 'areas', 'label'])
    if (values.org === undefined) throw new UsageError('create needs --org NAME (the organisation is created when new)')
    if (values.role === undefined) throw new UsageError('create needs --role admin|editor|analyst|viewer')
    const role = valid(Role, values.role, '--role')
    const areas = values.areas === undefined ? undefined : valid(KeyAreas, values.areas.split(',').map((a) => a.trim()), '--areas')
    if (areas && role !== 'editor') throw new UsageError(`--areas limits editor keys only, not a ${role} key`)
    return {
      name,
      org: valid(OrganisationName, values.org, '--org'),
      role,
      areas,
      label: values.label === undefined ? undefined : valid(Text({ max: 200 }), values.label, '--label'),
    }
  }
  if (name === 'list') {
    if (rest.length) throw new UsageError(`list takes no arguments besides --org, not ${rest.join(' ')}`)
    unexpected(['org'])
    return { name, org: values.org === undefined ? undefined : valid(OrganisationName, values.org, '--org') }
  }
  if (name === 'revoke') {
    unexpected([])
    if (rest.length !== 1) throw new UsageError('revoke needs exactly one key id (npm run keys -- list shows them)')
    return { name, id: valid(z.uuid('must be a key id (a UUID)'), rest[0], 'ID') }
  }
  throw new UsageError(name === undefined ? 'no command given' : `unknown command ${name}`)
}

const listed = (k: ApiKeyRow) => ({
  id: k.id,
  org: k.organisation,
  organisation_id: k.organisation_id,
  role: k.role,
  areas: k.areas,
  label: k.label,
  prefix: k.prefix,
  created_at: k.created_at,
  last_used_at: k.last_used_at,
  revoked_at: k.revoked_at,
})

async function run(db: Db, command: Command) {
  const access = accessService(db)
  if (command.name === 'create') {
    const key = await access.createKey(
      CLI,
      { organisation: command.org, role: command.role, areas: command.areas, label: command.label ?? null },
      { createOrganisation: true },
    )
    console.log(
      JSON.stringify({
        id: key.id,
        key: key.key,
        org: key.organisation,
        role: key.role,
        organisation_id: key.organisation_id,
        areas: key.areas,
        label: key.label,
        prefix: key.prefix,
      }),
    )
    say(`created a key with role ${key.role} for ${key.organisation}: keep the key now, it is not stored and cannot be shown again`)
    return
  }
  if (command.name === 'list') {
    let organisation: string | undefined
    if (command.org !== undefined) {
      const found = await access.findOrganisationByName(command.org)
      if (!found) throw new UsageError(`no organisation is called "${command.org}"`)
      organisation = found.id
    }
    let count = 0
    for (let cursor: string | undefined, more = true; more; ) {
      const page = await access.listKeys({ organisation, limit: 500, cursor })
      for (const k of page.items) console.log(JSON.stringify(listed(k)))
      count += page.items.length
      cursor = page.next_cursor ?? undefined
      more = cursor !== undefined
    }
    say(`${count} key${count === 1 ? '' : 's'}`)
    return
  }
  const before = await access.getKey(command.id).catch(() => undefined)
  const key = await access.revokeKey(CLI, command.id)
  console.log(JSON.stringify(listed(key)))
  say(
    before?.revoked_at
      ? `key ${key.id} (${key.prefix}…) was already revoked at ${key.revoked_at}`
      : `revoked key ${key.id} (${key.prefix}…); running servers refuse it within ${KEY_CACHE_MS / 1000} seconds`,
  )
}

const argv = process.argv.slice(2)
if (argv.includes('--help') || argv.includes('-h')) {
  console.error(USAGE)
  process.exit(0)
}
let command: Command
try {
  command = parseCommand(argv)
} catch (err) {
  say((err as Error).message)
  console.error(USAGE)
  process.exit(2)
}

const config = configOrExit()
const target = databaseOrExit(config)
const db = createDb(target.url, { max: 2, timeZone: config.TIME_ZONE })
try {
  await migrateDatabase(db)
  await run(db, command)
} catch (err) {
  process.exitCode = 1
  say(err instanceof Problem || err instanceof UsageError ? err.message : `keys failed: ${err instanceof Error ? err.message : String(err)}`)
} finally {
  await db.$client.end()
  if (target.cluster?.startedHere) target.cluster.stop()
}
