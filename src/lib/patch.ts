// A PATCH body must change something: one rule for every resource, stated as minProperties in the document.
import { z } from 'zod'

/**
 * Refuses a body with no field to change (fields in `besides`, such as a note kept with the change,
 * do not count). Checked only when the body is otherwise valid, so an unknown field is reported alone.
 */
export function requireChange<T extends z.ZodType<Record<string, unknown>>>(schema: T, besides: string[] = []) {
  return schema
    .refine((body) => Object.keys(body).some((k) => !besides.includes(k)), {
      message: 'the body must change at least one field',
      when: (payload) => payload.issues.length === 0,
    })
    .meta({ minProperties: 1 })
}
