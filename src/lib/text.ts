// The one text type of the API. PostgreSQL text cannot hold NUL (a query carrying one fails with
// 22021), and other C0 control characters are never meaningful in a directory entry: they only hide
// content from people reading it. So every string that comes in (body, query, path, header, decoded
// cursor) is one of these, and the rule is written once, as a pattern the OpenAPI document states.
import { z } from 'zod'

// Single-line text: no C0 control character at all, and no DEL.
const SINGLE_LINE = /^[^\x00-\x1F\x7F]*$/
// Free text (notes, descriptions): tab, newline and carriage return are allowed; other C0 controls and DEL are not.
const MULTI_LINE = /^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$/

// JSON may escape half of a surrogate pair (\ud800) alone: no character, so PostgreSQL's jsonb refuses it
// and text columns would silently store U+FFFD instead. The pattern reads the same with or without the
// regular-expression u flag, so JSON Schema validators agree with it.
const WELL_FORMED = /^(?:[^\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/
const WELL_FORMED_MESSAGE = 'must be well-formed Unicode (no lone surrogate halves such as \\ud800)'

const SINGLE_LINE_MESSAGE = 'must not contain control characters (such as NUL, tab or newline)'
const MULTI_LINE_MESSAGE = 'must not contain control characters other than tab and newline (such as NUL)'

export interface TextOptions {
  /** Fewest characters after trimming (default 1: an empty name is no name). */
  min?: number
  max: number
  /** Allow tab and newlines (free text such as notes). */
  multiline?: boolean
  /** Trim surrounding whitespace before checking lengths (default true). */
  trim?: boolean
}

/** A string safe to store and search: bounded, without control characters. */
export function Text({ min = 1, max, multiline = false, trim = true }: TextOptions) {
  const base = trim ? z.string().trim() : z.string()
  const bounded = min > 0 ? base.min(min, `must be at least ${min} character${min > 1 ? 's' : ''}`) : base
  return bounded
    .max(max, `must be at most ${max} characters`)
    .regex(multiline ? MULTI_LINE : SINGLE_LINE, multiline ? MULTI_LINE_MESSAGE : SINGLE_LINE_MESSAGE)
    .regex(WELL_FORMED, WELL_FORMED_MESSAGE)
}

/** Free text, possibly several lines (notes, descriptions). Empty is allowed. */
export const FreeText = (max: number) => Text({ min: 0, max, multiline: true, trim: false })

/** Whether a decoded value (e.g. from a cursor) is text this API could have issued. */
export const isSafeText = (value: string) => SINGLE_LINE.test(value)

/** Adds the single-line rule to a string format that does not refuse control characters itself (a URL path may hold NUL). */
export const withoutControlCharacters = <T extends z.ZodString | z.ZodURL>(schema: T) =>
  schema.regex(SINGLE_LINE, SINGLE_LINE_MESSAGE).regex(WELL_FORMED, WELL_FORMED_MESSAGE) as T
