// The map, loaded on demand (dynamic import from main.ts): MapLibre over setu's own vector tiles, the areas as the
// base map and the providers on top, plus the search point and the current results from the page's own data.
// No glyphs or sprites: no text layers (names are in the page's HTML), so nothing is asked of any other host.
import { LngLatBounds, Map as MapLibre, NavigationControl, setWorkerUrl, type GeoJSONSource, type StyleSpecification } from 'maplibre-gl'
import type { FeatureCollection } from 'geojson'
import 'maplibre-gl/dist/maplibre-gl.css'
// The worker as a file of our own build: MapLibre would otherwise look for it beside its own (bundled) module.
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url'
import type { LatLon, NearestProvider } from './api.js'

export interface MapView {
  setPoint(p: LatLon, fly: boolean): void
  setResults(items: NearestProvider[], selectedId?: string): void
  /** Outlines the chosen area (when the tiles show that level). */
  setArea(pcode: string | undefined): void
  focus(p: LatLon): void
  /** The canvas's accessible name, in the page's language. */
  setLabel(label: string): void
}

const tiles = (layer: string) => `${location.origin}/v1/tiles/${layer}/{z}/{x}/{y}.mvt`
const empty: FeatureCollection = { type: 'FeatureCollection', features: [] }

// Colours with AA contrast on the pale land colour; the selected result is larger and outlined.
const style: StyleSpecification = {
  version: 8,
  sources: {
    areas: { type: 'vector', tiles: [tiles('areas')], minzoom: 0, maxzoom: 14 },
    providers: { type: 'vector', tiles: [tiles('providers')], minzoom: 0, maxzoom: 14 },
    point: { type: 'geojson', data: empty },
    results: { type: 'geojson', data: empty },
  },
  layers: [
    { id: 'background', type: 'background', paint: { 'background-color': '#dbe8ee' } },
    { id: 'areas-fill', type: 'fill', source: 'areas', 'source-layer': 'areas', paint: { 'fill-color': '#f7f5ef', 'fill-opacity': 0.9 } },
    {
      id: 'areas-line',
      type: 'line',
      source: 'areas',
      'source-layer': 'areas',
      paint: { 'line-color': '#6b7b86', 'line-width': ['interpolate', ['linear'], ['zoom'], 5, 0.4, 12, 1.5] },
    },
    {
      id: 'area-selected',
      type: 'line',
      source: 'areas',
      'source-layer': 'areas',
      filter: ['==', ['get', 'pcode'], ''],
      paint: { 'line-color': '#1d4ed8', 'line-width': 3 },
    },
    {
      id: 'providers',
      type: 'circle',
      source: 'providers',
      'source-layer': 'providers',
      paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 6, 2, 14, 5], 'circle-color': '#52606d', 'circle-opacity': 0.7 },
    },
    {
      id: 'results',
      type: 'circle',
      source: 'results',
      paint: {
        'circle-radius': ['case', ['get', 'selected'], 11, 7],
        'circle-color': ['case', ['get', 'selected'], '#b42318', '#0b5563'],
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 2,
      },
    },
    {
      id: 'point',
      type: 'circle',
      source: 'point',
      paint: { 'circle-radius': 8, 'circle-color': '#1d4ed8', 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 3 },
    },
  ],
}

export async function createMap(
  container: HTMLElement,
  { center, label, onTap, onSelect }: { center?: LatLon; label: string; onTap: (p: LatLon) => void; onSelect: (id: string) => void },
): Promise<MapView> {
  setWorkerUrl(workerUrl)
  const map = new MapLibre({
    container,
    style,
    center: center ? [center.lon, center.lat] : [97, 17],
    zoom: center ? 10 : 4,
    attributionControl: false,
    cooperativeGestures: false,
    dragRotate: false,
    pitchWithRotate: false,
    maxZoom: 16,
  })
  map.touchZoomRotate.disableRotation()
  map.getCanvas().setAttribute('aria-label', label)
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right')
  // A tile that fails (offline, or no tiles endpoint) must not take the map down: the results layer works without.
  map.on('error', () => undefined)
  await new Promise<void>((resolve) => map.once('load', () => resolve()))

  map.on('click', (e) => {
    const hit = map.queryRenderedFeatures(e.point, { layers: ['results'] })[0]
    if (hit?.properties?.id) onSelect(String(hit.properties.id))
    else onTap({ lat: e.lngLat.lat, lon: e.lngLat.lng })
  })
  map.on('mouseenter', 'results', () => (map.getCanvas().style.cursor = 'pointer'))
  map.on('mouseleave', 'results', () => (map.getCanvas().style.cursor = ''))

  const source = (id: string) => map.getSource(id) as GeoJSONSource
  let searchPoint: LatLon | undefined

  return {
    setPoint(p, fly) {
      searchPoint = p
      source('point').setData({ type: 'Feature', geometry: { type: 'Point', coordinates: [p.lon, p.lat] }, properties: {} })
      if (fly) map.flyTo({ center: [p.lon, p.lat], zoom: Math.max(map.getZoom(), 10), essential: true })
    },
    setResults(items, selectedId) {
      const located = items.filter((p) => p.location)
      source('results').setData({
        type: 'FeatureCollection',
        features: located.map((p) => ({
          type: 'Feature',
          geometry: { type: 'Point', coordinates: [p.location!.lon, p.location!.lat] },
          properties: { id: p.id, selected: p.id === selectedId },
        })),
      })
      // Fit the search point and the results, unless one is selected (focus() moves the map then).
      if (located.length && !selectedId) {
        const bounds = new LngLatBounds()
        for (const p of located) bounds.extend([p.location!.lon, p.location!.lat])
        if (searchPoint) bounds.extend([searchPoint.lon, searchPoint.lat])
        map.fitBounds(bounds, { padding: 40, maxZoom: 13, duration: 600 })
      }
    },
    setArea(pcode) {
      map.setFilter('area-selected', ['==', ['get', 'pcode'], pcode ?? ''])
    },
    setLabel(text) {
      map.getCanvas().setAttribute('aria-label', text)
    },
    focus(p) {
      map.flyTo({ center: [p.lon, p.lat], zoom: Math.max(map.getZoom(), 12), essential: true })
    },
  }
}
