// Keyset ("cursor") pagination: a cursor is the opaque, base64url-encoded sort key of the last
// row served, so pages stay stable while rows are added or changed elsewhere in the list.
import { z } from 'zod'
import { badRequest } from './problem.js'

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
