// Hand-written GeoJSON for the area tests: rectangles whose overlaps are easy to compute by hand.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'

export const SHARED_BOUNDARIES = path.resolve('/work/shared/data/boundaries')
export const sharedDataPresent = () => existsSync(path.join(SHARED_BOUNDARIES, 'BGD_ADM4.geojson'))
export const readShared = (file: string) => JSON.parse(readFileSync(path.join(SHARED_BOUNDARIES, file), 'utf8'))

export const rect = (x1: number, y1: number, x2: number, y2: number) => ({
  type: 'Polygon',
  coordinates: [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]],
})

export const feature = (properties: Record<string, unknown>, geometry: unknown) => ({ type: 'Feature', properties, geometry })

export const collection = (...features: unknown[]) => ({ type: 'FeatureCollection', features })

/** Two BGD divisions side by side: "10" west of 91°E, "20" east of it. */
export const divisions = () =>
  collection(
    feature({ code: '10', name: 'Alpha', bn: 'আলফা' }, rect(90, 23, 91, 24)),
    feature({ code: '20', name: 'Beta', bn: 'বেটা' }, rect(91, 23, 92, 24)),
  )
