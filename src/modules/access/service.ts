// Organisations and API keys, for admins over HTTP and for the keys command: one set of rules for both.
import { z } from 'zod'
import type { Db } from '../../db/client.js'
import { assertVersion } from '../../lib/if-match.js'
import { CursorText, CursorTimestamp, decodeCursor, toPage } from '../../lib/pagination.js'
import { conflict, notFound, unprocessable } from '../../lib/problem.js'
import { asActor, type Actor } from './actor.js'
import { keysRepo, type ApiKeyRow, type OrganisationRow } from './keys.js'
import type { Role } from './roles.js'

export interface NewKey {
  organisation_id?: string
  organisation?: string
  role: Role
  areas?: string[]
  label?: string | null
}

const KeyCursor = z.tuple([CursorTimestamp, z.uuid()])
const OrganisationCursor = z.tuple([CursorText])

export function accessService(db: Db, { forget = () => {} }: { forget?: () => void } = {}) {
  const repo = keysRepo(db)

  return {
    /**
     * Creates a key and answers it with its secret. The organisation must exist, unless `createOrganisation`
     * (the keys command, which sets a partner up in one step) lets a name that is new create it.
     */
    async createKey(actor: Actor, input: NewKey, { createOrganisation = false } = {}): Promise<ApiKeyRow & { key: string }> {
      if (input.areas?.length && input.role !== 'editor') {
        throw unprocessable(`only an editor key can be limited to areas, not a ${input.role} key`, [
          { path: 'areas', message: 'only for role editor' },
        ])
      }
      return asActor(
        db,
        actor,
        async (tx) => {
          const txRepo = keysRepo(tx)
          const organisation = await organisationFor(txRepo, input, createOrganisation)
          if (input.areas?.length) {
            const unknown = await txRepo.unknownAreas(input.areas)
            if (unknown.length) {
              throw unprocessable(
                `no area has the pcode ${unknown.join(', ')}`,
                unknown.map((p) => ({ path: `areas.${input.areas!.indexOf(p)}`, message: `area ${p} does not exist` })),
              )
            }
          }
          return txRepo.createKey({ organisationId: organisation.id, role: input.role, areas: input.areas, label: input.label })
        },
        'create',
      )
    },

    async getKey(id: string): Promise<ApiKeyRow> {
      const key = await repo.findKey(id)
      if (!key) throw notFound('API key', id)
      return key
    },

    async listKeys(q: { organisation?: string; limit: number; cursor?: string }) {
      const after = q.cursor ? decodeCursor(q.cursor, KeyCursor) : undefined
      const rows = await repo.listKeys({ organisationId: q.organisation, limit: q.limit }, after)
      return toPage(rows, q.limit, (k) => [k.created_at, k.id])
    },

    /**
     * Revokes a key at once for this process (its verification cache is forgotten) and within KEY_CACHE_MS for
     * every other. Revoking a revoked key answers it as it is: the change a retry asks for has already been made,
     * so its If-Match (naming the version before the revocation) is not held against it.
     */
    async revokeKey(actor: Actor, id: string, ifMatch?: string): Promise<ApiKeyRow> {
      const revoked = await asActor(
        db,
        actor,
        async (tx) => {
          const txRepo = keysRepo(tx)
          const key = await txRepo.findKeyForUpdate(id)
          if (!key) throw notFound('API key', id)
          if (key.revoked_at !== null) return key
          assertVersion(ifMatch, key.version, `API key ${id}`)
          await txRepo.revokeKey(id)
          return (await txRepo.findKey(id))!
        },
        'revoke',
      )
      forget()
      return revoked
    },

    async createOrganisation(actor: Actor, name: string): Promise<OrganisationRow> {
      const created = await asActor(db, actor, (tx) => keysRepo(tx).insertOrganisation(name), 'create')
      if (!created) throw conflict(`an organisation called "${name}" exists already`)
      return created
    },

    async getOrganisation(id: string): Promise<OrganisationRow> {
      const organisation = await repo.findOrganisation(id)
      if (!organisation) throw notFound('Organisation', id)
      return organisation
    },

    async findOrganisationByName(name: string): Promise<OrganisationRow | undefined> {
      return repo.findOrganisationByName(name)
    },

    async listOrganisations(q: { limit: number; cursor?: string }) {
      const after = q.cursor ? decodeCursor(q.cursor, OrganisationCursor)[0] : undefined
      const rows = await repo.listOrganisations(q.limit, after)
      return toPage(rows, q.limit, (o) => [o.name])
    },
  }
}
export type AccessService = ReturnType<typeof accessService>

async function organisationFor(repo: ReturnType<typeof keysRepo>, input: NewKey, create: boolean): Promise<OrganisationRow> {
  if (input.organisation_id !== undefined) {
    const found = await repo.findOrganisation(input.organisation_id)
    if (!found) {
      throw unprocessable(`organisation ${input.organisation_id} does not exist`, [
        { path: 'organisation_id', message: 'no such organisation' },
      ])
    }
    return found
  }
  const name = input.organisation!
  const found = create ? await repo.ensureOrganisation(name) : await repo.findOrganisationByName(name)
  if (!found) {
    throw unprocessable(`no organisation is called "${name}"; create it first (POST /v1/organisations)`, [
      { path: 'organisation', message: 'no such organisation' },
    ])
  }
  return found
}
