// MOUs: records per provider, enforced status transitions and a history row for every change.
import { z } from 'zod'
import type { Db } from '../../db/client.js'
import { CursorTimestamp, decodeCursor, toPage } from '../../lib/pagination.js'
import { conflict, notFound, unprocessable } from '../../lib/problem.js'
import { assertVersion } from '../../lib/if-match.js'
import { asActor, type Actor } from '../access/actor.js'
import { assertMayWrite } from '../access/ownership.js'
import type { CreateMou, ListMousQuery, Mou, PatchMou } from './schemas.js'
import { EDITABLE, mousRepo, type Changes, type Editable, type MousRepo, type MouStatus } from './repo.js'

/**
 * Allowed changes, from the effective status (what everyone reads) to the status being set. Expired and
 * terminated are final: an expired MOU is renewed only by a new MOU with renews_mou_id. Signed → expired
 * by hand records an early lapse (e.g. the donor project ended before expires_on). Going back from signed
 * to draft or negotiating is refused: renegotiation is a new MOU.
 */
export const MOU_TRANSITIONS: Record<MouStatus, readonly MouStatus[]> = {
  draft: ['negotiating', 'signed', 'terminated'],
  negotiating: ['draft', 'signed', 'terminated'],
  signed: ['expired', 'terminated'],
  expired: [],
  terminated: [],
}

const CursorKey = z.tuple([CursorTimestamp, z.uuid()])

function refuseTransition(from: MouStatus, to: MouStatus, mouId: string, providerId: string) {
  const renewHint =
    from === 'expired'
      ? `; an expired MOU is renewed only by a new MOU that references it: POST /v1/providers/${providerId}/mous with renews_mou_id ${mouId}`
      : from === 'terminated'
        ? '; nothing leaves terminated'
        : ''
  return conflict(`an MOU cannot change from ${from} to ${to}${renewHint}`, { from, to })
}

/** signed and expired MOUs need signed_on; an expiry date cannot precede signing. */
function checkDates(status: MouStatus, signedOn: string | null | undefined, expiresOn: string | null | undefined) {
  if ((status === 'signed' || status === 'expired') && !signedOn) {
    throw unprocessable(`an MOU with status ${status} needs signed_on`, [{ path: 'signed_on', message: `required when status is ${status}` }])
  }
  if (signedOn && expiresOn && expiresOn < signedOn) {
    throw unprocessable(`expires_on ${expiresOn} is before signed_on ${signedOn}`, [
      { path: 'expires_on', message: 'must not be before signed_on' },
    ])
  }
}

async function assertAreaExists(repo: MousRepo, pcode: string | null | undefined) {
  if (!pcode) return
  if (!(await repo.areaExists(pcode))) {
    throw unprocessable(`area ${pcode} does not exist`, [{ path: 'counterparty_area', message: `area ${pcode} does not exist` }])
  }
}

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)

/**
 * The default actor of creations: a script run on the server (the demo loader, which calls the service itself),
 * recorded as such, to which owner checks do not apply. Routes always pass the request's actor.
 */
const SCRIPT_ACTOR: Actor = { caller: null }

export function mousService(db: Db) {
  const repo = mousRepo(db)

  async function getMou(id: string): Promise<Mou> {
    const mou = await repo.findById(id)
    if (!mou) throw notFound('MOU', id)
    return mou
  }

  return {
    getMou: (id: string) => getMou(id),

    /** An MOU belongs to its provider's organisation: an editor records MOUs of its own providers only. */
    async createMou(providerId: string, body: CreateMou, actor: Actor = SCRIPT_ACTOR) {
      const id = await asActor(db, actor, async (tx) => {
        const txRepo = mousRepo(tx)
        const owner = await txRepo.findOwner(providerId)
        if (!owner) throw notFound('Provider', providerId)
        assertMayWrite(actor, owner)
        await assertAreaExists(txRepo, body.counterparty_area)
        checkDates(body.status, body.signed_on, body.expires_on)
        if (body.renews_mou_id) {
          const renewed = await txRepo.findRenewed(body.renews_mou_id)
          if (!renewed) {
            throw unprocessable(`MOU ${body.renews_mou_id} does not exist`, [{ path: 'renews_mou_id', message: 'no such MOU' }])
          }
          if (renewed.provider_id !== providerId) {
            throw unprocessable(`MOU ${body.renews_mou_id} belongs to another provider`, [
              { path: 'renews_mou_id', message: 'must be an MOU of the same provider' },
            ])
          }
          if (renewed.effective_status !== 'expired') {
            throw conflict(`MOU ${body.renews_mou_id} is ${renewed.effective_status}; only an expired MOU can be renewed`, {
              renews_mou_status: renewed.effective_status,
            })
          }
        }
        const id = await txRepo.insert(providerId, body)
        await txRepo.insertStatusChange(id, body.status, true, {}, body.status_note)
        return id
      })
      return getMou(id)
    },

    async patchMou(id: string, patch: PatchMou, ifMatch: string | undefined, actor: Actor) {
      await asActor(db, actor, async (tx) => {
        const txRepo = mousRepo(tx)
        const before = await txRepo.findForUpdate(id)
        if (!before) throw notFound('MOU', id)
        // Who may write it comes first: a caller that may not gets 403 whatever version it names.
        assertMayWrite(actor, before.owner)
        assertVersion(ifMatch, before.version, `MOU ${id}`)

        const changes: Changes = {}
        for (const field of EDITABLE) {
          if (patch[field] !== undefined && !sameValue(before[field], patch[field])) {
            changes[field] = { from: before[field], to: patch[field] }
          }
        }
        const from = before.effective_status
        const to = (patch.status ?? before.status) as MouStatus
        if (patch.status && patch.status !== from && !MOU_TRANSITIONS[from].includes(patch.status)) {
          throw refuseTransition(from, patch.status, id, before.provider_id)
        }
        if (!Object.keys(changes).length) return

        checkDates(to, patch.signed_on !== undefined ? patch.signed_on : before.signed_on,
          patch.expires_on !== undefined ? patch.expires_on : before.expires_on)
        if (patch.counterparty_area !== undefined) await assertAreaExists(txRepo, patch.counterparty_area)

        const after = await txRepo.update(id, Object.keys(changes) as Editable[], patch)
        // Moving expires_on past today would bring an expired MOU back to signed: that is a renewal in disguise.
        if ((from === 'expired' || from === 'terminated') && after !== from) throw refuseTransition(from, after, id, before.provider_id)
        await txRepo.insertStatusChange(id, to, before.status !== to, changes, patch.status_note)
      })
      return getMou(id)
    },

    async history(id: string) {
      await getMou(id)
      return { items: await repo.history(id), next_cursor: null }
    },

    async listMous(q: ListMousQuery) {
      const after = q.cursor ? decodeCursor(q.cursor, CursorKey) : undefined
      const rows = await repo.list(q, after)
      return toPage(rows, q.limit, (r) => [r.created_at, r.id])
    },
  }
}

export type MousService = ReturnType<typeof mousService>
