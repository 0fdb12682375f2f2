// What POST /v1/providers/import?format=hsds accepts and answers. The body is validated loosely here (a list of
// records, or an HSDS page) and each record strictly, one by one, in import.ts, so that every bad record is reported
// with its reason while the good ones are imported.
import { z } from 'zod'
import { FieldErrorSchema } from '../../lib/problem.js'
import { Category } from '../../lib/vocabulary.js'
import { ProviderKind } from '../providers/schemas.js'

export const MAX_IMPORT = 1000

const records = z
  .array(z.unknown())
  .min(1, 'at least one HSDS service is needed')
  .max(MAX_IMPORT, `at most ${MAX_IMPORT} HSDS services per request`)

const serviceExample = {
  id: 'ac148810-d857-441c-9679-408f346de14b',
  name: 'Community Counselling',
  description: 'Counselling by trained professionals',
  status: 'active',
  phones: [{ number: '+8801700000000' }],
  languages: [{ code: 'bn' }],
  attributes: [{ taxonomy_term: { code: 'counselling', name: 'Counselling', taxonomy: 'setu' } }],
  organization: { id: 'd9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610', name: 'Example Organization' },
  service_at_locations: [
    { id: 'e94c9f38-1e8f-4564-91d4-d53501ab1765', location: { id: '3a19ff88-4620-4d17-9830-ac1d859eb5d5', location_type: 'physical', latitude: 23.1667, longitude: 89.2083 } },
  ],
}

export const HsdsImportBody = z
  .union([
    records.meta({ description: 'A list of HSDS 3.0 services, each with its organization and locations nested' }),
    z
      .looseObject({ contents: records.meta({ description: 'The services of this page' }) })
      .meta({ description: 'An HSDS 3.0 API page (as GET /services answers): only contents is read' }),
  ])
  .meta({ id: 'HsdsImport', example: [serviceExample] })

export const HsdsImportQuery = z.strictObject({
  format: z.literal('hsds').meta({ description: 'The format of the body: hsds (Open Referral HSDS 3.0 JSON)' }),
  category: Category.optional().meta({
    description:
      'The setu category of services whose attributes name none (see the operation description); without it such a ' +
      'service is rejected',
  }),
  kind: ProviderKind.optional().meta({ description: 'The kind of provider created for each new service (default ngo)' }),
  organisation_id: z.uuid().optional().meta({
    description:
      'The setu organisation that owns the providers created: admins only (default: the caller’s own). An editor ' +
      'naming another organisation is refused with 403',
  }),
})
export type HsdsImportQuery = z.infer<typeof HsdsImportQuery>

export const ImportRejection = z
  .object({
    index: z.number().int().meta({ description: 'Position of the record in the list (or in contents)' }),
    id: z.string().nullable().meta({ description: 'The record’s HSDS id, when it has one' }),
    errors: z.array(FieldErrorSchema).meta({ description: 'path: where in the HSDS record; message: what to fix' }),
  })
  .meta({ id: 'ImportRejection' })

export const ImportReport = z
  .object({
    created: z.number().int().meta({ description: 'New providers' }),
    updated: z.number().int().meta({ description: 'Providers matched by external id hsds:<service id> and changed' }),
    unchanged: z.number().int().meta({ description: 'Providers matched and already as the record says' }),
    rejected: z.array(ImportRejection).meta({ description: 'Records not imported (nothing of them was written), with why' }),
  })
  .meta({
    id: 'ImportReport',
    example: {
      created: 1,
      updated: 0,
      unchanged: 0,
      rejected: [
        {
          index: 1,
          id: 'ac148810-d857-441c-9679-408f346de14b',
          errors: [{ path: 'service_at_locations.0.location.latitude', message: 'latitude must be between -90 and 90 degrees (WGS 84), got 100' }],
        },
      ],
    },
  })
export type ImportReport = z.infer<typeof ImportReport>

// ---------------------------------------------------------------------------------------------------
// One HSDS record, as far as setu reads it. Loose objects: every other HSDS field is allowed and ignored.

const str = z.string()
const optStr = str.nullish()
const latitude = z.number().nullish()
const longitude = z.number().nullish()

const HsdsLanguage = z.looseObject({ code: optStr, name: optStr, note: z.unknown().optional() })
const HsdsPhone = z.looseObject({ number: z.union([str, z.number()]) })
const HsdsAddress = z.looseObject({
  address_1: optStr,
  address_2: optStr,
  city: optStr,
  region: optStr,
  state_province: optStr,
  postal_code: optStr,
  country: optStr,
})
export const HsdsLocation = z
  .looseObject({
    id: optStr,
    location_type: optStr,
    name: optStr,
    latitude,
    longitude,
    addresses: z.array(HsdsAddress).nullish(),
    phones: z.array(HsdsPhone).nullish(),
  })
  .superRefine((l, ctx) => {
    if (typeof l.latitude === 'number' && !(l.latitude >= -90 && l.latitude <= 90)) {
      ctx.addIssue({ code: 'custom', path: ['latitude'], message: `latitude must be between -90 and 90 degrees (WGS 84), got ${l.latitude}` })
    }
    if (typeof l.longitude === 'number' && !(l.longitude >= -180 && l.longitude <= 180)) {
      ctx.addIssue({ code: 'custom', path: ['longitude'], message: `longitude must be between -180 and 180 degrees (WGS 84), got ${l.longitude}` })
    }
    if ((l.latitude == null) !== (l.longitude == null)) {
      ctx.addIssue({ code: 'custom', path: [l.latitude == null ? 'latitude' : 'longitude'], message: 'latitude and longitude must be given together' })
    }
  })
export type HsdsLocation = z.infer<typeof HsdsLocation>

const HsdsTerm = z.looseObject({ code: optStr, name: optStr, taxonomy: optStr })
// link_type, taxonomy_term_id, a language's note and the organization's identifiers are only looked at (for a record
// setu exported, import.ts): any value passes, so that they never reject another directory's record.
const peeked = z.unknown().optional()
const HsdsAttribute = z.looseObject({ value: optStr, link_type: peeked, taxonomy_term_id: peeked, taxonomy_term: HsdsTerm.nullish() })

// A schedule is read for its description alone (setu's opening_hours); its other fields (RRULE parts) are not.
const HsdsSchedule = z.looseObject({ description: peeked })

export const HsdsService = z.looseObject({
  id: str.trim().min(1, 'id is required: setu matches imported records on it').max(300, 'id must be at most 300 characters'),
  name: str,
  description: optStr,
  url: optStr,
  email: optStr,
  status: z.enum(['active', 'inactive', 'defunct', 'temporarily closed']).nullish(),
  minimum_age: z.number().nullish(),
  maximum_age: z.number().nullish(),
  // Free text in HSDS: read only when it is exactly one of setu's cost values (import.ts), so any value passes.
  fees_description: peeked,
  schedules: z.array(HsdsSchedule).nullish(),
  phones: z.array(HsdsPhone).nullish(),
  languages: z.array(HsdsLanguage).nullish(),
  attributes: z.array(HsdsAttribute).nullish(),
  service_at_locations: z
    .array(
      z.looseObject({ id: optStr, location: HsdsLocation.nullish(), phones: z.array(HsdsPhone).nullish(), schedules: z.array(HsdsSchedule).nullish() }),
    )
    .nullish(),
  organization: z
    .looseObject({
      id: optStr,
      name: optStr,
      email: optStr,
      website: optStr,
      phones: z.array(HsdsPhone).nullish(),
      locations: z.array(HsdsLocation).nullish(),
      organization_identifiers: z.unknown().optional(),
    })
    .nullish(),
})
export type HsdsService = z.infer<typeof HsdsService>
