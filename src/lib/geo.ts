import { z } from 'zod'

export const Lat = z.coerce
  .number({ error: 'latitude must be a number' })
  .min(-90, 'latitude must be between -90 and 90')
  .max(90, 'latitude must be between -90 and 90')
  .meta({ description: 'Latitude in decimal degrees (WGS 84)', example: 23.8103 })

export const Lon = z.coerce
  .number({ error: 'longitude must be a number' })
  .min(-180, 'longitude must be between -180 and 180')
  .max(180, 'longitude must be between -180 and 180')
  .meta({ description: 'Longitude in decimal degrees (WGS 84)', example: 90.4125 })

/** Body form of a point: strict numbers, no coercion from strings. */
export const LatLon = z
  .strictObject({
    lat: z.number().min(-90, 'latitude must be between -90 and 90').max(90, 'latitude must be between -90 and 90'),
    lon: z.number().min(-180, 'longitude must be between -180 and 180').max(180, 'longitude must be between -180 and 180'),
  })
  .meta({ id: 'LatLon', description: 'A WGS 84 point', example: { lat: 23.8103, lon: 90.4125 } })
export type LatLon = z.infer<typeof LatLon>

export interface BBox {
  minLon: number
  minLat: number
  maxLon: number
  maxLat: number
}

/** `minLon,minLat,maxLon,maxLat`, as in OGC API Features. */
export const BBoxParam = z
  .string()
  .transform((value, ctx): BBox => {
    const parts = value.split(',').map((s) => Number(s.trim()))
    if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n))) {
      ctx.addIssue({ code: 'custom', message: 'bbox must be four numbers: minLon,minLat,maxLon,maxLat' })
      return z.NEVER
    }
    const [minLon, minLat, maxLon, maxLat] = parts
    if (minLon < -180 || maxLon > 180 || minLat < -90 || maxLat > 90) {
      ctx.addIssue({ code: 'custom', message: 'bbox must lie within longitude [-180, 180] and latitude [-90, 90]' })
      return z.NEVER
    }
    if (minLon > maxLon || minLat > maxLat) {
      ctx.addIssue({ code: 'custom', message: 'bbox minimums must not exceed its maximums' })
      return z.NEVER
    }
    return { minLon, minLat, maxLon, maxLat }
  })
  .meta({ description: 'Bounding box: minLon,minLat,maxLon,maxLat (WGS 84)', example: '90.3,23.7,90.5,23.9' })

/** Query-string booleans: only the words true and false, not any non-empty string. */
export const QueryBool = z.enum(['true', 'false']).transform((v) => v === 'true')
