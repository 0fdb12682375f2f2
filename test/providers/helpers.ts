// Independent distance calculations and sample inputs for the provider tests.
import { sql } from 'drizzle-orm'
import type { Db } from '../../src/db/client.js'

const MEAN_EARTH_RADIUS_M = 6371008.8

/** Great-circle distance on a sphere of radius r (by default the mean Earth radius). */
export function haversineM(a: { lat: number; lon: number }, b: { lat: number; lon: number }, r = MEAN_EARTH_RADIUS_M): number {
  const rad = Math.PI / 180
  const dLat = (b.lat - a.lat) * rad
  const dLon = (b.lon - a.lon) * rad
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2
  return 2 * r * Math.asin(Math.min(1, Math.sqrt(h)))
}

const WGS84_A = 6378137
const WGS84_E2 = 0.00669437999014

/**
 * Haversine on the sphere that best fits the WGS 84 ellipsoid where the two points are: the Gaussian radius
 * sqrt(M·N) at their mean latitude. One fixed radius is up to ~0.5 % off the spheroid at 10°N (the
 * meridian's radius of curvature there is 6,337 km, not 6,371 km); the local radius stays within ~0.35 %.
 */
export function haversineLocalM(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const phi = ((a.lat + b.lat) / 2) * (Math.PI / 180)
  const w = 1 - WGS84_E2 * Math.sin(phi) ** 2
  const m = (WGS84_A * (1 - WGS84_E2)) / w ** 1.5
  const n = WGS84_A / Math.sqrt(w)
  return haversineM(a, b, Math.sqrt(m * n))
}

/** Vincenty's inverse formula on the WGS 84 ellipsoid: an independent check of PostGIS's spheroid distance. */
export function vincentyM(p1: { lat: number; lon: number }, p2: { lat: number; lon: number }): number {
  const a = 6378137
  const f = 1 / 298.257223563
  const b = a * (1 - f)
  const rad = Math.PI / 180
  const L = (p2.lon - p1.lon) * rad
  const U1 = Math.atan((1 - f) * Math.tan(p1.lat * rad))
  const U2 = Math.atan((1 - f) * Math.tan(p2.lat * rad))
  const sinU1 = Math.sin(U1), cosU1 = Math.cos(U1), sinU2 = Math.sin(U2), cosU2 = Math.cos(U2)
  let lambda = L
  let sinSigma = 0, cosSigma = 0, sigma = 0, cosSqAlpha = 0, cos2SigmaM = 0
  for (let i = 0; i < 200; i++) {
    const sinLambda = Math.sin(lambda), cosLambda = Math.cos(lambda)
    sinSigma = Math.sqrt((cosU2 * sinLambda) ** 2 + (cosU1 * sinU2 - sinU1 * cosU2 * cosLambda) ** 2)
    if (sinSigma === 0) return 0
    cosSigma = sinU1 * sinU2 + cosU1 * cosU2 * cosLambda
    sigma = Math.atan2(sinSigma, cosSigma)
    const sinAlpha = (cosU1 * cosU2 * sinLambda) / sinSigma
    cosSqAlpha = 1 - sinAlpha * sinAlpha
    cos2SigmaM = cosSqAlpha === 0 ? 0 : cosSigma - (2 * sinU1 * sinU2) / cosSqAlpha
    const C = (f / 16) * cosSqAlpha * (4 + f * (4 - 3 * cosSqAlpha))
    const prev = lambda
    lambda = L + (1 - C) * f * sinAlpha * (sigma + C * sinSigma * (cos2SigmaM + C * cosSigma * (-1 + 2 * cos2SigmaM ** 2)))
    if (Math.abs(lambda - prev) < 1e-12) break
  }
  const uSq = (cosSqAlpha * (a * a - b * b)) / (b * b)
  const A = 1 + (uSq / 16384) * (4096 + uSq * (-768 + uSq * (320 - 175 * uSq)))
  const B = (uSq / 1024) * (256 + uSq * (-128 + uSq * (74 - 47 * uSq)))
  const deltaSigma =
    B * sinSigma * (cos2SigmaM + (B / 4) * (cosSigma * (-1 + 2 * cos2SigmaM ** 2) - (B / 6) * cos2SigmaM * (-3 + 4 * sinSigma ** 2) * (-3 + 4 * cos2SigmaM ** 2)))
  return b * A * (sigma - deltaSigma)
}

export const relDiff = (x: number, y: number) => Math.abs(x - y) / Math.max(Math.abs(y), 1e-9)

/** A deterministic pseudo-random generator (mulberry32), so data sets are the same on every run. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const providerCount = async (db: Db): Promise<number> => {
  const { rows } = await db.execute(sql`SELECT count(*)::int AS n FROM providers`)
  return (rows[0] as { n: number }).n
}

/** Everything stored, as text: compared before and after a rejected request to prove nothing changed. */
export const tableSnapshot = async (db: Db): Promise<string> => {
  const { rows } = await db.execute(sql`SELECT p::text AS r FROM providers p ORDER BY id`)
  return JSON.stringify(rows)
}

export const minimalProvider = (overrides: Record<string, unknown> = {}) => ({
  name: 'Test provider',
  kind: 'ngo',
  categories: ['health'],
  location: { lat: 23.81, lon: 90.41 },
  ...overrides,
})
