// Keyset ("cursor") pagination: a cursor is the opaque, base64url-encoded sort key of the last
// row served, so pages stay stable while rows are added or changed elsewhere in the list.
import { z } from 'zod'
import { badRequest } from './problem.js'
import { Text } from './text.js'

/**
 * Parts of a sort key, for the shape a cursor decodes to. A cursor is client input: each part is
 * checked as strictly as the column it is compared with, so a forged cursor is a 400, never a
 * database error.
 */
export const CursorText = Text({ min: 0, max: 1000, trim: false })
// created_at as this API prints it (2026-11-01T09:30:00.123456+00:00), on a day that exists.
export const CursorTimestamp = z
  .string()
  .regex(/^(19\d\d|20\d\d|2100)-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?([+-]\d{2}:\d{2}|Z)$/)
  .refine((v) => {
    const [y, m, d] = v.slice(0, 10).split('-').map(Number)
    const day = new Date(Date.UTC(y, m - 1, d))
    return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d
  })

export const Limit = (def = 50, max = 500) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(max)
    .default(def)
    .meta({ description: `Page size (1–${max})`, example: def })

export const CursorParam = z
  .string()
  .max(1000)
  .meta({ description: 'Opaque cursor from the previous page’s next_cursor' })

export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url')
}

export function decodeCursor<T extends unknown[]>(cursor: string, shape: z.ZodType<T>): T {
  try {
    return shape.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')))
  } catch {
    throw badRequest('cursor is not one this API issued; start again without it', [
      { path: 'cursor', message: 'invalid cursor' },
    ])
  }
}

/** A page of items: fetch limit + 1 rows, serve limit, and the extra row says whether more exist. */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => unknown[]) {
  const items = rows.slice(0, limit)
  const next_cursor = rows.length > limit ? encodeCursor(keyOf(items[items.length - 1])) : null
  return { items, next_cursor }
}

export const Page = <T extends z.ZodType>(item: T, id: string) =>
  z
    .object({
      items: z.array(item),
      next_cursor: z.string().nullable().meta({ description: 'Pass as cursor to get the next page; null on the last page' }),
    })
    .meta({ id })
