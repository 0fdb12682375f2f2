import type { SQL } from 'drizzle-orm'
import { z } from 'zod'
import type { Db } from '../../db/client.js'
import { CursorTimestamp, decodeCursor, toPage } from '../../lib/pagination.js'
import { assertVersion } from '../../lib/if-match.js'
import type { Viewer } from '../../lib/location-visibility.js'
import { conflict, notFound, unprocessable } from '../../lib/problem.js'
import { asActor, type Actor } from '../access/actor.js'
import { assertMayWrite } from '../access/ownership.js'
import { viewerOf } from '../access/roles.js'
import type { HealthSettings } from './health.js'
import { referralLinksRepo, type EndRow } from './repo.js'
import type { CreateReferralLink, ListReferralLinksQuery, PatchReferralLink, ProviderLinksQuery } from './schemas.js'

const CursorKey = z.tuple([CursorTimestamp, z.uuid()])
const afterCursor = (cursor: string | undefined) => (cursor ? decodeCursor(cursor, CursorKey) : undefined)

/** The rule of the table's CHECK referral_links_used_after_established, answered as a 422 before any write. */
function refuseUseBeforeEstablished(establishedOn: string | null | undefined, lastUsedOn: string | null | undefined) {
  if (establishedOn && lastUsedOn && lastUsedOn < establishedOn) {
    throw unprocessable(`last_used_on ${lastUsedOn} is before established_on ${establishedOn}`, [
      { path: 'last_used_on', message: 'must not be before established_on' },
    ])
  }
}

/**
 * The default actor of creations: a script run on the server (the demo loader, which calls the service itself),
 * recorded as such, to which owner checks do not apply. Routes always pass the request's actor.
 */
const SCRIPT_ACTOR: Actor = { caller: null }

/** A writer is answered with the link as it may read it: a link to another organisation's shelter stays masked. */
const viewerOfActor = (actor: Actor): Viewer => (actor.caller ? viewerOf(actor.caller) : { exact: 'all' })

export function referralLinksService(db: Db, settings: HealthSettings) {
  const repo = referralLinksRepo(db, settings)

  async function getLink(id: string, viewer: Viewer) {
    const row = await repo.findById(id, viewer)
    if (!row) throw notFound('Referral link', id)
    return row
  }

  const notOffered = (to: EndRow, categories: string[]) => categories.filter((c) => !to.categories.includes(c))

  function refuseUnofferedCategories(to: EndRow, categories: string[]) {
    const missing = notOffered(to, categories)
    if (missing.length) {
      throw unprocessable(
        `the receiving provider ${to.name} does not offer ${missing.join(', ')}`,
        missing.map((c) => ({ path: 'categories', message: `${c} is not offered by the receiving provider` })),
      )
    }
  }

  function refuseClosedEnds(ends: { from: EndRow; to: EndRow }) {
    for (const [side, end] of [['referring', ends.from], ['receiving', ends.to]] as const) {
      if (end.status === 'closed') {
        throw conflict(`the ${side} provider ${end.name} is closed; links to or from a closed provider are refused`, {
          provider_id: end.id,
        })
      }
    }
  }

  return {
    getLink: (id: string, viewer: Viewer) => getLink(id, viewer),

    /**
     * A link is owned by the organisation of its referring provider: an editor may link from its own providers
     * (inside its areas) to anyone's, not from another organisation's.
     */
    async createLink(body: CreateReferralLink, actor: Actor = SCRIPT_ACTOR) {
      if (body.from_provider_id === body.to_provider_id) {
        throw unprocessable('a referral link cannot point from a provider to itself', [
          { path: 'to_provider_id', message: 'must differ from from_provider_id' },
        ])
      }
      refuseUseBeforeEstablished(body.established_on, body.last_used_on)
      const id = await asActor(db, actor, async (tx) => {
        const txRepo = referralLinksRepo(tx, settings)
        const ends = await txRepo.findEnds(body.from_provider_id, body.to_provider_id)
        const unknown = [
          ...(ends.from ? [] : [{ path: 'from_provider_id', message: `provider ${body.from_provider_id} does not exist` }]),
          ...(ends.to ? [] : [{ path: 'to_provider_id', message: `provider ${body.to_provider_id} does not exist` }]),
        ]
        if (unknown.length) throw unprocessable(unknown.map((e) => e.message).join('; '), unknown)
        assertMayWrite(actor, ends.from!, 'referring provider')
        const existingId = await txRepo.findIdBetween(body.from_provider_id, body.to_provider_id)
        if (existingId) {
          throw conflict(`a referral link from ${ends.from!.name} to ${ends.to!.name} already exists: ${existingId}`, {
            existing_link_id: existingId,
          })
        }
        refuseClosedEnds({ from: ends.from!, to: ends.to! })
        refuseUnofferedCategories(ends.to!, body.categories)
        return txRepo.insert(body)
      })
      return getLink(id, viewerOfActor(actor))
    },

    async patchLink(id: string, patch: PatchReferralLink, ifMatch: string | undefined, actor: Actor) {
      await asActor(db, actor, async (tx) => {
        const txRepo = referralLinksRepo(tx, settings)
        const current = await txRepo.findForUpdate(id)
        if (!current) throw notFound('Referral link', id)
        const ends = await txRepo.findEnds(current.from_provider_id, current.to_provider_id)
        // Who may write it comes first: a caller that may not gets 403 whatever version it names.
        assertMayWrite(actor, ends.from!, 'referring provider')
        assertVersion(ifMatch, current.version, `Referral link ${id}`)
        refuseUseBeforeEstablished(
          patch.established_on === undefined ? current.established_on : patch.established_on,
          patch.last_used_on === undefined ? current.last_used_on : patch.last_used_on,
        )
        // Marking a link inactive or correcting notes stays possible when an end has closed; reviving it does not.
        if (patch.status === 'active' && current.status !== 'active') refuseClosedEnds({ from: ends.from!, to: ends.to! })
        if (patch.categories) refuseUnofferedCategories(ends.to!, patch.categories)
        await txRepo.update(id, patch)
      })
      return getLink(id, viewerOfActor(actor))
    },

    async listLinks(q: ListReferralLinksQuery, viewer: Viewer) {
      const rows = await repo.list(q, viewer, afterCursor(q.cursor))
      return toPage(rows, q.limit, (r) => [r.created_at, r.id])
    },

    async listProviderLinks(providerId: string, q: ProviderLinksQuery, viewer: Viewer) {
      if (!(await repo.providerExists(providerId))) throw notFound('Provider', providerId)
      const rows = await repo.listForProvider(providerId, q, viewer, afterCursor(q.cursor))
      return toPage(rows, q.limit, (r) => [r.created_at, r.id])
    },

    /** Links with their health for arbitrary conditions over `l`, `fp`, `tp`, `h` (pathways, the network view). */
    selectLinks: (conditions: SQL[], viewer: Viewer) => repo.selectLinks(conditions, viewer),
  }
}

export type ReferralLinksService = ReturnType<typeof referralLinksService>
