// Optimistic concurrency for every PATCH: the ETag of a resource is its version, and a client that
// sends If-Match with the version it last read gets a 412 instead of overwriting someone else's change.
import { z } from 'zod'
import { Problem } from './problem.js'

export const IfMatchHeaders = z.object({
  'if-match': z
    .string()
    .max(200)
    .optional()
    .meta({
      description:
        'The ETag of your last read ("3"; W/"3", 3 and * are accepted too). Any other value, or another version than the current one, is a 412 (RFC 9110: it matches no current ETag)',
      example: '"3"',
    }),
})

// `"3"`, `W/"3"`, `3` (lenient: some clients drop the quotes) or `*`.
const ETAG = /^\s*(\*|(?:W\/)?"?(\d{1,9})"?)\s*$/

/** Refuses the change (412) when If-Match names a version other than the current one; absent means no check. */
export function assertVersion(ifMatch: string | undefined, version: number, what: string) {
  if (ifMatch === undefined) return
  const m = ETAG.exec(ifMatch)
  if (m?.[1] === '*') return
  if (!m || Number(m[2]) !== version) {
    const named = m ? m[2] : JSON.stringify(ifMatch.slice(0, 40))
    throw new Problem(412, 'Precondition Failed', `${what} is at version ${version}, not ${named}; read it again and retry`, {
      type: 'urn:setu:problem:precondition-failed',
      current_version: version,
    })
  }
}
