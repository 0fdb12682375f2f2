// Hand-written GeoJSON for the area tests: rectangles whose overlaps are easy to compute by hand; and the
// real boundary files of ../shared/data for the tests that need them.
import { readSharedJson, sharedPath, skipWithoutShared } from '../helpers/shared-data.js'

export const SHARED_BOUNDARIES = sharedPath('boundaries')
export const readShared = (file: string) => readSharedJson(`boundaries/${file}`)
/** tap's `skip` option for a test reading these boundary files (see skipWithoutShared). */
export const skipWithoutBoundaries = (...files: string[]) => skipWithoutShared(...files.map((f) => `boundaries/${f}`))

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
