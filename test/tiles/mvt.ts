// Tile arithmetic and decoding for the tile tests, written from the XYZ scheme's definition (not from the code under
// test): which tile holds a point, a tile's lon/lat box, and a tile's features as GeoJSON through @mapbox/vector-tile.
import { VectorTile } from '@mapbox/vector-tile'
import { PbfReader } from 'pbf'

export interface Tile {
  z: number
  x: number
  y: number
}

export interface DecodedFeature {
  layer: string
  properties: Record<string, string | number | boolean>
  /** Every vertex, as [lon, lat]. */
  points: Array<[number, number]>
  type: 'Point' | 'LineString' | 'Polygon'
}

const EXTENT = 4096
const BUFFER = 64

const lonOf = (xFrac: number, z: number) => (xFrac / 2 ** z) * 360 - 180
const latOf = (yFrac: number, z: number) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * yFrac) / 2 ** z))) * 180) / Math.PI

/** The tile at zoom z that holds the point. */
export function tileOf(lat: number, lon: number, z: number): Tile {
  const n = 2 ** z
  const x = Math.floor(((lon + 180) / 360) * n)
  const rad = (lat * Math.PI) / 180
  const y = Math.floor(((1 - Math.asinh(Math.tan(rad)) / Math.PI) / 2) * n)
  return { z, x, y }
}

/** A tile's box [west, south, east, north]; with margin, widened by the 64 of 4096 units each tile carries beyond its edge. */
export function tileBox({ z, x, y }: Tile, margin = false): [number, number, number, number] {
  const m = margin ? BUFFER / EXTENT : 0
  return [lonOf(x - m, z), latOf(y + 1 + m, z), lonOf(x + 1 + m, z), latOf(y - m, z)]
}

/** The size of one tile unit at the tile's zoom, in degrees of longitude: the precision of a decoded point. */
export const unitDeg = ({ z }: Tile) => 360 / 2 ** z / EXTENT

/** Every feature of every layer of a tile, with its vertices in lon/lat. */
export function decodeTile(body: Buffer, tile: Tile): DecodedFeature[] {
  const vt = new VectorTile(new PbfReader(body))
  const out: DecodedFeature[] = []
  for (const [name, layer] of Object.entries(vt.layers)) {
    for (let i = 0; i < layer.length; i++) {
      const f = layer.feature(i)
      const geojson = f.toGeoJSON(tile.x, tile.y, tile.z)
      const g = geojson.geometry
      const points: Array<[number, number]> = []
      const collect = (c: unknown): void => {
        if (Array.isArray(c) && typeof c[0] === 'number') points.push([c[0], c[1] as number])
        else if (Array.isArray(c)) c.forEach(collect)
      }
      collect('coordinates' in g ? g.coordinates : [])
      const type = g.type.replace(/^Multi/, '') as DecodedFeature['type']
      out.push({ layer: name, properties: f.properties as DecodedFeature['properties'], points, type })
    }
  }
  return out
}

export const tileUrl = (layer: string, t: Tile) => `/v1/tiles/${layer}/${t.z}/${t.x}/${t.y}.mvt`
