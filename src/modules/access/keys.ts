// API keys and organisations in SQL, and the keys themselves: 32 random bytes, shown once, stored as SHA-256.
import { createHash, randomBytes } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import type { Role } from './roles.js'

/** The organisation every row written before organisations existed, and the demo data, belongs to (migration 0004). */
export const DEMO_ORGANISATION_ID = '00000000-0000-4000-8000-000000000001'
export const DEMO_ORGANISATION = 'setu-demo'

const KEY_PREFIX = 'setu_'
/** How many leading characters of a key are kept in clear: `setu_` and 7 of its 43 random ones (42 of 256 bits). */
export const PREFIX_LENGTH = 12
/** What a presented key must look like before it is hashed and looked up. */
export const KEY_PATTERN = /^setu_[A-Za-z0-9_-]{43}$/

/** A new key: `setu_` and 32 random bytes in base64url. High-entropy, so a fast hash is as good as a slow one. */
export function generateKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url')
}

export const hashKey = (key: string): Buffer => createHash('sha256').update(key).digest()

export interface ApiKeyRow {
  id: string
  organisation_id: string
  organisation: string
  role: Role
  areas: string[] | null
  label: string | null
  prefix: string
  created_at: string
  last_used_at: string | null
  revoked_at: string | null
  version: number
}

export interface OrganisationRow {
  id: string
  name: string
  created_at: string
  updated_at: string
  version: number
}

const iso = (column: string) => sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`)

const keyColumns = sql`k.id, k.organisation_id, o.name AS organisation, k.role, k.limited_to_areas AS areas, k.label, k.prefix,
  ${iso('k.created_at')} AS created_at, ${iso('k.last_used_at')} AS last_used_at, ${iso('k.revoked_at')} AS revoked_at, k.version`

const organisationColumns = sql`o.id, o.name, ${iso('o.created_at')} AS created_at, ${iso('o.updated_at')} AS updated_at, o.version`

export function keysRepo(ex: Executor) {
  return {
    async findOrganisationByName(name: string): Promise<OrganisationRow | undefined> {
      const { rows } = await ex.execute<OrganisationRow & Record<string, unknown>>(
        sql`SELECT ${organisationColumns} FROM organisations o WHERE o.name = ${name}`,
      )
      return rows[0]
    },

    async findOrganisation(id: string): Promise<OrganisationRow | undefined> {
      const { rows } = await ex.execute<OrganisationRow & Record<string, unknown>>(
        sql`SELECT ${organisationColumns} FROM organisations o WHERE o.id = ${id}::uuid`,
      )
      return rows[0]
    },

    /** A new organisation, or undefined when one of that name exists already. */
    async insertOrganisation(name: string): Promise<OrganisationRow | undefined> {
      const { rows } = await ex.execute<{ id: string }>(
        sql`INSERT INTO organisations (name) VALUES (${name}) ON CONFLICT (name) DO NOTHING RETURNING id`,
      )
      return rows[0] ? this.findOrganisation(rows[0].id) : undefined
    },

    /** The organisation called `name`, created when there is none; concurrent callers get the same one. */
    async ensureOrganisation(name: string): Promise<OrganisationRow> {
      await ex.execute(sql`INSERT INTO organisations (name) VALUES (${name}) ON CONFLICT (name) DO NOTHING`)
      return (await this.findOrganisationByName(name))!
    },

    async listOrganisations(limit: number, after?: string): Promise<OrganisationRow[]> {
      const { rows } = await ex.execute<OrganisationRow & Record<string, unknown>>(sql`
        SELECT ${organisationColumns} FROM organisations o
        ${after !== undefined ? sql`WHERE o.name > ${after}` : sql``}
        ORDER BY o.name LIMIT ${limit + 1}`)
      return rows
    },

    /** Stores a new key for an organisation; answers the row and the key, which is not stored and cannot be read again. */
    async createKey(input: { organisationId: string; role: Role; areas?: string[] | null; label?: string | null }): Promise<ApiKeyRow & { key: string }> {
      const key = generateKey()
      const areas = input.areas && input.areas.length ? input.areas : null
      const { rows } = await ex.execute<{ id: string }>(sql`
        INSERT INTO api_keys (organisation_id, role, limited_to_areas, label, prefix, key_hash)
        VALUES (${input.organisationId}::uuid, ${input.role}, ${areas === null ? null : sql`${sql.param(areas)}::text[]`},
                ${input.label ?? null}, ${key.slice(0, PREFIX_LENGTH)}, ${hashKey(key)})
        RETURNING id`)
      return { ...(await this.findKey(rows[0].id))!, key }
    },

    async findKey(id: string): Promise<ApiKeyRow | undefined> {
      const { rows } = await ex.execute<ApiKeyRow & Record<string, unknown>>(
        sql`SELECT ${keyColumns} FROM api_keys k JOIN organisations o ON o.id = k.organisation_id WHERE k.id = ${id}::uuid`,
      )
      return rows[0]
    },

    /** Keys in creation order, revoked ones included; never the secrets (only their hash is stored). */
    async listKeys(q: { organisationId?: string; limit: number }, after?: [string, string]): Promise<ApiKeyRow[]> {
      const conditions = []
      if (q.organisationId) conditions.push(sql`k.organisation_id = ${q.organisationId}::uuid`)
      if (after) conditions.push(sql`(k.created_at, k.id) > (${after[0]}::timestamptz, ${after[1]}::uuid)`)
      const { rows } = await ex.execute<ApiKeyRow & Record<string, unknown>>(sql`
        SELECT ${keyColumns} FROM api_keys k JOIN organisations o ON o.id = k.organisation_id
        ${conditions.length ? sql`WHERE ${sql.join(conditions, sql` AND `)}` : sql``}
        ORDER BY k.created_at, k.id LIMIT ${q.limit + 1}`)
      return rows
    },

    /** The key, locked until the end of the transaction `ex` (a revocation reads, checks, then writes it). */
    async findKeyForUpdate(id: string): Promise<ApiKeyRow | undefined> {
      const { rows } = await ex.execute<ApiKeyRow & Record<string, unknown>>(
        sql`SELECT ${keyColumns} FROM api_keys k JOIN organisations o ON o.id = k.organisation_id WHERE k.id = ${id}::uuid FOR UPDATE OF k`,
      )
      return rows[0]
    },

    /** Revokes a key; revoking a revoked key changes nothing (its revoked_at stays the first one). */
    async revokeKey(id: string): Promise<void> {
      await ex.execute(sql`
        UPDATE api_keys SET revoked_at = now(), updated_at = now(), version = version + 1
        WHERE id = ${id}::uuid AND revoked_at IS NULL`)
    },

    /** Those of `pcodes` that name no known area. */
    async unknownAreas(pcodes: string[]): Promise<string[]> {
      const { rows } = await ex.execute<{ pcode: string }>(sql`
        SELECT p.pcode FROM unnest(${sql.param(pcodes)}::text[]) WITH ORDINALITY AS p(pcode, n)
        WHERE NOT EXISTS (SELECT 1 FROM areas a WHERE a.pcode = p.pcode) ORDER BY p.n`)
      return rows.map((r) => r.pcode)
    },
  }
}
export type KeysRepo = ReturnType<typeof keysRepo>
