// Which rows a caller may write: admins any; editors their own organisation's providers (and the links from them
// and their MOUs), inside their areas when the key is limited to some. Checked inside the write's transaction, on
// the rows as stored (and again after a move), so a refused write rolls back and changes nothing.
import { forbidden } from './authenticate.js'
import type { Actor } from './actor.js'

export interface OwnedProvider {
  id?: string
  organisation_id: string
  area_pcodes: string[]
}

/** Throws 403 unless the actor may write this provider (or its links from it, or its MOUs). */
export function assertMayWrite(actor: Actor, provider: OwnedProvider, what = 'provider'): void {
  const c = actor.caller
  if (c === null || c.role === 'admin') return
  const name = provider.id ? `${what} ${provider.id}` : `this ${what}`
  if (c.role !== 'editor') throw forbidden(`The ${c.role} role may not write`)
  if (provider.organisation_id !== c.organisationId) {
    throw forbidden(`${name} belongs to another organisation; an editor writes only its own organisation's providers`)
  }
  if (c.areas && !provider.area_pcodes.some((p) => c.areas!.includes(p))) {
    throw forbidden(`${name} lies outside the areas this key may write (${c.areas.join(', ')})`)
  }
}

/** The organisation a new provider belongs to: the editor's own; an admin's choice, or the admin's own. */
export function ownerForNew(actor: Actor, requested: string | undefined | null, fallback: string): string {
  const c = actor.caller
  if (c === null) return requested ?? fallback
  if (c.role === 'admin') return requested ?? c.organisationId
  if (requested && requested !== c.organisationId) {
    throw forbidden('An editor creates providers for its own organisation only')
  }
  return c.organisationId
}
