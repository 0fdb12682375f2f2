// Who a write is made by, recorded by the database itself: every write transaction first names its actor with
// set_config('setu.actor', …, true), which the audit trigger and MOU history read (migration 0004). A write that
// forgets to is recorded as made by the system, never lost.
import { sql } from 'drizzle-orm'
import type { Db, Executor } from '../../db/client.js'
import type { Caller, KeyCaller } from './roles.js'

export interface Actor {
  /** The key behind the request, or null for a script run on the server (npm run keys, the demo loader). */
  caller: KeyCaller | null
  requestId?: string
}

/** The actor of an API request: requests that write always carry a key (policy.ts refuses anonymous writes). */
export function actorOf(request: { caller: Caller; id: string }): Actor {
  return { caller: request.caller.kind === 'key' ? request.caller : null, requestId: request.id }
}

function actorJson(actor: Actor, action?: string): string {
  const c = actor.caller
  return JSON.stringify({
    key_id: c?.keyId ?? null,
    key_prefix: c?.keyPrefix ?? null,
    organisation_id: c?.organisationId ?? null,
    organisation: c?.organisation ?? null,
    role: c?.role ?? 'cli',
    request_id: actor.requestId ?? null,
    ...(action ? { action } : {}),
  })
}

/** Names the actor (and optionally the action, e.g. close, revoke) for the rest of the transaction `tx`. */
export async function setActor(tx: Executor, actor: Actor, action?: string): Promise<void> {
  await tx.execute(sql`SELECT set_config('setu.actor', ${actorJson(actor, action)}, true)`)
}

/** Runs fn in a transaction whose writes are recorded as made by `actor`. */
export function asActor<T>(db: Db, actor: Actor, fn: (tx: Executor) => Promise<T>, action?: string): Promise<T> {
  return db.transaction(async (tx) => {
    await setActor(tx, actor, action)
    return fn(tx)
  })
}
