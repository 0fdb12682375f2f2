// Who is calling, and what each role may do. The one table of roles: route access levels (policy.ts), location
// visibility (lib/location-visibility.ts) and ownership checks (ownership.ts) all read it from here.
import { z } from 'zod'
import type { Viewer } from '../../lib/location-visibility.js'

export const ROLES = ['admin', 'editor', 'analyst', 'viewer'] as const
export const Role = z.enum(ROLES).meta({
  id: 'Role',
  description:
    'admin: everything, keys and organisations included. editor: writes its own organisation’s providers, their links ' +
    'and MOUs (optionally only inside some areas). analyst: reads everything, exact locations included. viewer: reads ' +
    'the directory, links, MOUs, pathways and networks with confidential locations masked.',
  example: 'editor',
})
export type Role = z.infer<typeof Role>

/** A caller that presented a valid, unrevoked API key. */
export interface KeyCaller {
  kind: 'key'
  keyId: string
  keyPrefix: string
  organisationId: string
  organisation: string
  role: Role
  /** An editor limited to these areas (pcodes), or null for no limit. */
  areas: string[] | null
}

export type Caller = { kind: 'anonymous' } | KeyCaller

export const ANONYMOUS: Caller = Object.freeze({ kind: 'anonymous' })

/**
 * What a route requires, from least to most:
 * - public: anyone, without a key (areas, the provider list, detail and nearest, health, docs);
 * - reader: any key (links, MOUs, pathways, area networks, history);
 * - analyst: analysts and admins (exports, coverage, statistics);
 * - writer: editors and admins; which rows an editor may write is checked where the rows are (ownership.ts);
 * - admin: admins only (keys, organisations, the audit trail).
 */
export const ACCESS_LEVELS = ['public', 'reader', 'analyst', 'writer', 'admin'] as const
export type Access = (typeof ACCESS_LEVELS)[number]

const ROLES_FOR: Record<Exclude<Access, 'public'>, readonly Role[]> = {
  reader: ROLES,
  analyst: ['admin', 'analyst'],
  writer: ['admin', 'editor'],
  admin: ['admin'],
}

export const rolesFor = (access: Access): readonly Role[] | 'anyone' => (access === 'public' ? 'anyone' : ROLES_FOR[access])

export function allows(access: Access, caller: Caller): boolean {
  if (access === 'public') return true
  return caller.kind === 'key' && ROLES_FOR[access].includes(caller.role)
}

/**
 * Whose exact locations the caller sees: admins and analysts every provider's, an editor its own organisation's,
 * everyone else none (confidential providers are masked for them).
 */
export function viewerOf(caller: Caller): Viewer {
  if (caller.kind === 'anonymous') return { exact: 'none' }
  if (caller.role === 'admin' || caller.role === 'analyst') return { exact: 'all' }
  if (caller.role === 'editor') return { exact: 'own', organisationId: caller.organisationId }
  return { exact: 'none' }
}
