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

// Many-vertex polygons for the area_parts tests: ST_Subdivide cuts anything over 64 vertices into pieces, and the
// vertices it adds where a cut crosses a slanted edge are rounded. Coordinates carry 6 decimals like the source files.
const r6 = (x: number) => Math.round(x * 1e6) / 1e6

/** A 1,201-vertex border wobbling around 90.5°E from 23.01°N to 23.99°N: y strictly increases, so it never crosses itself. */
const wavyBorder = Array.from({ length: 1201 }, (_, i) => [r6(90.5 + 0.03 * Math.sin(i * 0.7) + 0.01 * Math.sin(i * 0.13)), r6(23.01 + (0.98 * i) / 1200)])

/**
 * Two BGD divisions sharing the wavy border, "10" west of it and "20" east of it, their other sides long slanted
 * edges (a cut crossing one of those gets a computed, rounded vertex); and district "1001" in "10", a 400-vertex
 * star around (90.2°E, 23.5°N). Every one of them is cut into several pieces.
 */
export const wavyDivisions = () => {
  const [sw, nw, se, ne] = [[89.912345, 22.987654], [90.023456, 24.012345], [91.034567, 22.976543], [90.967891, 24.021098]]
  return collection(
    feature({ code: '10', name: 'West' }, { type: 'Polygon', coordinates: [[sw, ...wavyBorder, nw, sw]] }),
    feature({ code: '20', name: 'East' }, { type: 'Polygon', coordinates: [[wavyBorder[0], se, ne, ...[...wavyBorder].reverse()]] }),
  )
}

export const starDistrict = () => {
  const ring = Array.from({ length: 400 }, (_, i) => {
    const a = (2 * Math.PI * i) / 400
    const r = 0.1 + 0.03 * Math.sin(5 * a)
    return [r6(90.2 + r * Math.cos(a)), r6(23.5 + r * Math.sin(a))]
  })
  return collection(feature({ code: '1001', name: 'Star', parent: '10' }, { type: 'Polygon', coordinates: [[...ring, ring[0]]] }))
}
