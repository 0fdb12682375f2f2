// Terms every module shares, defined once so the OpenAPI document has one component for each.
import { z } from 'zod'

export const Category = z
  .enum(['health', 'legal', 'counselling', 'shelter', 'livelihood'])
  .meta({ id: 'Category', description: 'A kind of service a survivor can be referred to', example: 'health' })
export type Category = z.infer<typeof Category>
export const CATEGORIES = Category.options

export const IsoDate = z.iso
  .date('must be a date in the form YYYY-MM-DD')
  .meta({ description: 'A calendar date, YYYY-MM-DD', example: '2026-06-30' })
