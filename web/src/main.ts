// The field page: where (area search, phone location, map tap), what (category), for whom (filters), then the
// nearest services as a list. The map (MapLibre, large) loads only after the list is usable, and never without WebGL.
import './fonts.js'
import './style.css'
import { getJson, nearestUrl, OfflineError, type AreaSummary, type LatLon, type NearestProvider } from './api.js'
import { byId, h } from './dom.js'
import { CATEGORIES, type Category } from './icons.js'
import { bindLanguageSelect, formatDateTime, initialLang, onLangChange, setLang, t, translateStatic, type MessageKey } from './i18n/index.js'
import { areaLabel, areaName } from './names.js'
import { bindKeyForm, renderKeyStatus, renderPathway } from './pathway.js'
import { renderResult } from './result.js'
import type { MapView } from './map.js'
import { registerServiceWorker } from './sw-register.js'

interface Filters {
  gender: string
  age?: number
  free: boolean
  noCourtOrder: boolean
  noId: boolean
}

interface State {
  area?: AreaSummary
  point?: LatLon
  /** How the point was chosen: the area's own point, a tap on the map, or the phone's location. */
  pointSource?: 'area' | 'map' | 'gps'
  category?: Category
  filters: Filters
  results: NearestProvider[]
  selectedId?: string
}

const STORAGE_KEY = 'setu.last-search'
const state: State = { filters: { gender: '', free: false, noCourtOrder: false, noId: false }, results: [] }

const els = {
  language: byId<HTMLSelectElement>('language'),
  search: byId<HTMLInputElement>('area-search'),
  options: byId<HTMLUListElement>('area-options'),
  searchStatus: byId('area-search-status'),
  locate: byId<HTMLButtonElement>('locate-me'),
  selectedArea: byId('selected-area'),
  categories: byId('categories'),
  gender: byId<HTMLSelectElement>('filter-gender'),
  age: byId<HTMLInputElement>('filter-age'),
  free: byId<HTMLInputElement>('filter-free'),
  noCourtOrder: byId<HTMLInputElement>('filter-no-court-order'),
  noId: byId<HTMLInputElement>('filter-no-id'),
  status: byId('results-status'),
  fetchedAt: byId('fetched-at'),
  results: byId<HTMLOListElement>('results'),
  directory: byId<HTMLAnchorElement>('open-directory'),
  map: byId('map'),
  mapNote: byId('map-note'),
}

// ---------------------------------------------------------------------------------------------------------
// Remembering the last search, so that the page reopens on it (offline too: the service worker has its answer).

function save() {
  const { area, point, pointSource, category, filters } = state
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify({ area, point, pointSource, category, filters }))
  } catch {
    // no storage: nothing to restore next time
  }
}

function restore() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null') as Partial<State> | null
    if (!saved) return
    state.area = saved.area
    state.point = saved.point
    state.pointSource = saved.pointSource
    state.category = CATEGORIES.includes(saved.category as Category) ? saved.category : undefined
    state.filters = { ...state.filters, ...saved.filters }
  } catch {
    // unreadable: start afresh
  }
}

// ---------------------------------------------------------------------------------------------------------
// Where

let searchTimer: ReturnType<typeof setTimeout> | undefined
let searchAbort: AbortController | undefined
let suggestions: AreaSummary[] = []
let active = -1

function closeSuggestions() {
  els.options.hidden = true
  els.search.setAttribute('aria-expanded', 'false')
  els.search.removeAttribute('aria-activedescendant')
  active = -1
}

function showSuggestions(items: AreaSummary[]) {
  suggestions = items
  active = -1
  els.options.replaceChildren(
    ...items.map((a, i) =>
      h(
        'li',
        {
          id: `area-option-${i}`,
          role: 'option',
          'aria-selected': 'false',
          'data-pcode': a.pcode,
          // keep the focus in the input, so the list is not closed by blur before the click lands
          onmousedown: ((e: Event) => e.preventDefault()) as EventListener,
          onclick: (() => chooseArea(a)) as EventListener,
        },
        areaLabel(a),
      ),
    ),
  )
  els.options.hidden = items.length === 0
  els.search.setAttribute('aria-expanded', String(items.length > 0))
  els.searchStatus.textContent = items.length === 0 ? t('area_search_none') : ''
}

function moveActive(step: number) {
  if (els.options.hidden || suggestions.length === 0) return
  active = (active + step + suggestions.length) % suggestions.length
  els.options.querySelectorAll('[role=option]').forEach((li, i) => li.setAttribute('aria-selected', String(i === active)))
  els.search.setAttribute('aria-activedescendant', `area-option-${active}`)
  els.options.children[active]?.scrollIntoView({ block: 'nearest' })
}

async function searchAreas(q: string) {
  searchAbort?.abort()
  searchAbort = new AbortController()
  try {
    const { data } = await getJson<{ items: AreaSummary[] }>(`/v1/areas?${new URLSearchParams({ q, limit: '10' })}`, { signal: searchAbort.signal })
    // Unions and communes first: the page is for the people of one union.
    showSuggestions([...data.items].sort((a, b) => b.admin_level - a.admin_level))
  } catch (err) {
    if ((err as Error).name === 'AbortError') return
    showSuggestions([])
    els.searchStatus.textContent = t('area_search_error')
  }
}

function chooseArea(area: AreaSummary) {
  closeSuggestions()
  els.search.value = areaName(area)
  state.area = area
  state.point = area.rep_point
  state.pointSource = 'area'
  state.selectedId = undefined
  renderWhere()
  void loadResults()
  mapView?.setPoint(area.rep_point, true)
}

/** A point from the map or the phone: the deepest area around it names the place and gives the directory. */
async function choosePoint(point: LatLon, source: 'map' | 'gps') {
  state.point = point
  state.pointSource = source
  state.area = undefined
  state.selectedId = undefined
  renderWhere()
  void loadResults()
  mapView?.setPoint(point, source === 'gps')
  try {
    const { data } = await getJson<{ items: AreaSummary[] }>(`/v1/areas/locate?lat=${point.lat.toFixed(5)}&lon=${point.lon.toFixed(5)}`)
    if (state.point !== point) return // another point was chosen meanwhile
    state.area = data.items[0]
    renderWhere()
    save()
  } catch {
    // the results do not depend on it
  }
}

function locateMe() {
  if (!('geolocation' in navigator)) {
    els.searchStatus.textContent = t('locate_failed')
    return
  }
  els.searchStatus.textContent = t('locating')
  els.locate.disabled = true
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      els.locate.disabled = false
      els.searchStatus.textContent = ''
      void choosePoint({ lat: pos.coords.latitude, lon: pos.coords.longitude }, 'gps')
    },
    () => {
      els.locate.disabled = false
      els.searchStatus.textContent = t('locate_failed')
    },
    { enableHighAccuracy: false, timeout: 15_000, maximumAge: 300_000 },
  )
}

function renderWhere() {
  const { area, pointSource } = state
  const sourceNote = pointSource === 'map' ? t('point_on_map') : pointSource === 'gps' ? t('my_location') : undefined
  els.selectedArea.textContent = area ? (sourceNote ? `${areaLabel(area)}: ${sourceNote}` : areaLabel(area)) : sourceNote ?? t('no_area')
  els.directory.hidden = !area
  mapView?.setArea(area?.pcode)
  if (area) els.directory.href = `/directory.html?area=${encodeURIComponent(area.pcode)}`
}

// ---------------------------------------------------------------------------------------------------------
// What and for whom

/** The buttons are in the HTML (vite.config.ts writes them): only their state and words change here. */
function renderCategories() {
  for (const button of els.categories.querySelectorAll<HTMLButtonElement>('button[data-category]')) {
    button.setAttribute('aria-pressed', String(state.category === button.dataset.category))
  }
}

function bindCategories() {
  for (const button of els.categories.querySelectorAll<HTMLButtonElement>('button[data-category]')) {
    const c = button.dataset.category as Category
    button.addEventListener('click', () => {
      state.category = state.category === c ? undefined : c
      state.selectedId = undefined
      renderCategories()
      void loadResults()
    })
  }
}

function readFilters() {
  const age = els.age.value.trim() === '' ? undefined : Number(els.age.value)
  state.filters = {
    gender: els.gender.value,
    age: age !== undefined && Number.isInteger(age) && age >= 0 && age <= 150 ? age : undefined,
    free: els.free.checked,
    noCourtOrder: els.noCourtOrder.checked,
    noId: els.noId.checked,
  }
  state.selectedId = undefined
  void loadResults()
}

function showFilters() {
  const f = state.filters
  els.gender.value = f.gender
  els.age.value = f.age === undefined ? '' : String(f.age)
  els.free.checked = f.free
  els.noCourtOrder.checked = f.noCourtOrder
  els.noId.checked = f.noId
}

// ---------------------------------------------------------------------------------------------------------
// Results

let resultsAbort: AbortController | undefined
/** What the status line says now, re-rendered on a language change. */
let status: { key: MessageKey; n?: number } = { key: 'status_choose' }
let cachedAt: Date | undefined

function setStatus(key: MessageKey, n?: number) {
  status = { key, n }
  els.status.textContent = t(key, n === undefined ? {} : { n })
  els.status.dataset.state = key.replace('status_', '')
}

function renderFetchedAt() {
  els.fetchedAt.hidden = !cachedAt
  els.fetchedAt.textContent = cachedAt ? t('fetched_at', { date: formatDateTime(cachedAt) }) : ''
  if (cachedAt) els.fetchedAt.dataset.fetchedAt = cachedAt.toISOString()
}

async function loadResults() {
  save()
  renderPathwayNow()
  const { point, category, filters } = state
  if (!point) {
    state.results = []
    renderResults()
    setStatus('status_choose')
    return
  }
  resultsAbort?.abort()
  resultsAbort = new AbortController()
  setStatus('status_loading')
  els.results.setAttribute('aria-busy', 'true')
  try {
    const url = nearestUrl(point, {
      category,
      gender: filters.gender || undefined,
      age: filters.age,
      free: filters.free,
      noCourtOrder: filters.noCourtOrder,
      noId: filters.noId,
    })
    const answer = await getJson<{ items: NearestProvider[] }>(url, { signal: resultsAbort.signal })
    state.results = answer.data.items
    cachedAt = answer.cachedAt
    renderResults()
    if (cachedAt) setStatus('status_offline')
    else setStatus(state.results.length ? 'status_count' : 'status_none', state.results.length)
  } catch (err) {
    if ((err as Error).name === 'AbortError') return
    state.results = []
    cachedAt = undefined
    renderResults()
    setStatus(err instanceof OfflineError && !navigator.onLine ? 'status_offline_none' : 'status_error')
  } finally {
    els.results.removeAttribute('aria-busy')
  }
  renderFetchedAt()
  mapView?.setResults(state.results, state.selectedId)
  loadMapSoon()
}

function renderResults() {
  els.results.replaceChildren(
    ...state.results.map((p) => renderResult(p, { category: state.category, selected: p.id === state.selectedId, onSelect: selectResult })),
  )
}

function selectResult(id: string) {
  state.selectedId = state.selectedId === id ? undefined : id
  renderResults()
  const selected = state.results.find((p) => p.id === state.selectedId)
  mapView?.setResults(state.results, state.selectedId)
  if (selected?.location) {
    mapView?.focus(selected.location)
    // On a phone the map is below the list: bring it into view (which also loads it the first time).
    const box = els.map.getBoundingClientRect()
    if (box.bottom < 0 || box.top > window.innerHeight) els.map.scrollIntoView({ block: 'center', behavior: 'smooth' })
  }
  renderPathwayNow()
}

function renderPathwayNow() {
  void renderPathway(byId('pathway'), {
    area: state.area,
    category: state.category,
    selected: state.results.find((p) => p.id === state.selectedId),
  })
}

// ---------------------------------------------------------------------------------------------------------
// The map: loaded lazily, after the list, and only with WebGL.

let mapView: MapView | undefined
let mapRequested = false

function hasWebGL(): boolean {
  try {
    const canvas = document.createElement('canvas')
    return !!(canvas.getContext('webgl2') ?? canvas.getContext('webgl'))
  } catch {
    return false
  }
}

/** No WebGL (or MapLibre failed): the map's place says so, in the page's language; the list is unaffected. */
function mapUnavailable() {
  mapView = undefined
  els.mapNote.textContent = ''
  delete els.mapNote.dataset.i18n
  els.map.classList.add('unavailable')
  els.map.replaceChildren(h('p', { 'data-i18n': 'map_unavailable' }, t('map_unavailable')))
}

function loadMapSoon() {
  if (mapRequested) return
  mapRequested = true
  if (!hasWebGL()) return mapUnavailable()
  const start = () => {
    els.mapNote.dataset.i18n = 'map_loading'
    els.mapNote.textContent = t('map_loading')
    return import('./map.js')
      .then(({ createMap }) =>
        createMap(els.map, {
          center: state.point,
          label: t('map_label'),
          onTap: (p) => void choosePoint(p, 'map'),
          onSelect: (id) => selectResult(id),
        }),
      )
      .then((view) => {
        mapView = view
        els.mapNote.textContent = ''
        delete els.mapNote.dataset.i18n
        if (state.point) view.setPoint(state.point, false)
        view.setArea(state.area?.pcode)
        view.setResults(state.results, state.selectedId)
        const selected = state.results.find((p) => p.id === state.selectedId)
        if (selected?.location) view.focus(selected.location)
      })
      .catch(() => mapUnavailable())
  }
  // Only when the map is (nearly) on screen: on a phone it sits below the list, and MapLibre's megabyte of script
  // would otherwise compete with the first results for a slow CPU. Without IntersectionObserver, after the list.
  if (!('IntersectionObserver' in window)) {
    setTimeout(() => void start(), 1000)
    return
  }
  const observer = new IntersectionObserver(
    (entries) => {
      if (!entries.some((e) => e.isIntersecting)) return
      observer.disconnect()
      void start()
    },
    { rootMargin: '200px' },
  )
  observer.observe(els.map)
}

// ---------------------------------------------------------------------------------------------------------
// A link to a search (/?area=<pcode>&category=shelter, as the union directory's "Back to search" gives): it opens
// on that place and kind of help, whatever was searched last on this phone.

function linkedSearch(): { pcode: string; category?: Category } | undefined {
  const params = new URLSearchParams(location.search)
  const pcode = params.get('area')?.trim()
  if (!pcode || !/^[A-Za-z0-9]{2,20}$/.test(pcode)) return undefined
  const category = params.get('category') as Category | null
  return { pcode, category: category && CATEGORIES.includes(category) ? category : undefined }
}

async function openLinked({ pcode, category }: { pcode: string; category?: Category }) {
  if (category) {
    state.category = category
    renderCategories()
  }
  try {
    const { data } = await getJson<AreaSummary>(`/v1/areas/${encodeURIComponent(pcode)}`)
    chooseArea(data)
  } catch {
    void loadResults() // unknown area or offline: the last search, if any
  }
}

// ---------------------------------------------------------------------------------------------------------
// Language

function renderAll() {
  translateStatic()
  document.title = t('app_title')
  renderWhere()
  renderCategories()
  renderResults()
  els.status.textContent = t(status.key, status.n === undefined ? {} : { n: status.n })
  renderFetchedAt()
  renderKeyStatus()
  mapView?.setLabel(t('map_label'))
  if (state.area && document.activeElement !== els.search) els.search.value = areaName(state.area)
  renderPathwayNow()
}

// ---------------------------------------------------------------------------------------------------------

function init() {
  setLang(initialLang(), false)
  bindLanguageSelect(els.language)
  onLangChange(renderAll)
  restore()
  showFilters()
  renderAll()

  els.search.addEventListener('input', () => {
    clearTimeout(searchTimer)
    const q = els.search.value.trim()
    els.searchStatus.textContent = ''
    if (q.length < 2) {
      closeSuggestions()
      return
    }
    searchTimer = setTimeout(() => void searchAreas(q), 250)
  })
  els.search.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') (e.preventDefault(), moveActive(1))
    else if (e.key === 'ArrowUp') (e.preventDefault(), moveActive(-1))
    else if (e.key === 'Escape') closeSuggestions()
    else if (e.key === 'Enter') {
      e.preventDefault()
      const pick = suggestions[active >= 0 ? active : 0]
      if (pick && !els.options.hidden) chooseArea(pick)
    }
  })
  els.search.addEventListener('blur', () => setTimeout(closeSuggestions, 150))
  els.locate.addEventListener('click', locateMe)
  for (const el of [els.gender, els.age, els.free, els.noCourtOrder, els.noId]) el.addEventListener('change', readFilters)
  bindKeyForm(renderPathwayNow)
  bindCategories()

  const linked = linkedSearch()
  if (linked) void openLinked(linked)
  else if (state.point) void loadResults()
  else {
    setStatus('status_choose')
    loadMapSoon()
  }
  registerServiceWorker()
}

init()
