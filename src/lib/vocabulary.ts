// Terms every module shares, defined once so the OpenAPI document has one component for each.
import { z } from 'zod'
import { Text } from './text.js'

export const Category = z
  .enum(['health', 'legal', 'counselling', 'shelter', 'livelihood'])
  .meta({ id: 'Category', description: 'A kind of service a survivor can be referred to', example: 'health' })
export type Category = z.infer<typeof Category>
export const CATEGORIES = Category.options

/** A list of categories: at least one, each at most once (stated as uniqueItems in the document). */
export const Categories = (max = CATEGORIES.length) =>
  z
    .array(Category)
    .min(1, 'at least one category is needed')
    .max(max)
    .refine((c) => new Set(c).size === c.length, 'categories must not repeat')
    .meta({ uniqueItems: true })

export const FIRST_DATE = '1900-01-01'
export const LAST_DATE = '2100-12-31'
// PostgreSQL accepts years far outside any directory's life (and refuses year 0000 with an error);
// a date outside 1900–2100 is a typing mistake. The pattern states the range in the document.
const YEAR_1900_TO_2100 = /^(19\d\d|20\d\d|2100)-/

export const IsoDate = z.iso
  .date('must be a date in the form YYYY-MM-DD')
  .regex(YEAR_1900_TO_2100, `must be between ${FIRST_DATE} and ${LAST_DATE}`)
  .meta({ format: 'date', description: `A calendar date, YYYY-MM-DD, between ${FIRST_DATE} and ${LAST_DATE}`, example: '2026-06-30' })


/**
 * An area code: the OCHA P-code (BD + digits, KH + digits), or the source's id where no official code
 * exists (geoBoundaries shape ids). Any printable text up to 64 characters, so that every imported code
 * stays reachable.
 */
export const Pcode = Text({ max: 64 }).meta({
  description: 'Area code: the OCHA P-code (BD + digits, KH + digits), or the source id where no official code exists',
  example: 'BD3026',
})

/** Path parameters of a resource addressed by its UUID: `/…/{id}`. */
export const IdParams = (example: string) =>
  z.strictObject({ id: z.uuid('id must be a UUID').meta({ description: 'The resource id (a UUID)', example }) })
