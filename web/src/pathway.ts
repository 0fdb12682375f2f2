// Who refers there: the referral pathway from the selected place's focal point to the selected service, for
// callers with an API key (entered once, kept in localStorage, sent as Authorization: Bearer).
import { focalPointsUrl, getJson, HttpError, type Area, type AreaSummary, type NearestProvider, type PathwaysResult, type Pathway } from './api.js'
import { byId, h } from './dom.js'
import { t, type MessageKey } from './i18n/index.js'
import { providerName } from './names.js'

const KEY_STORAGE = 'setu.api-key'

export function savedKey(): string | undefined {
  try {
    return localStorage.getItem(KEY_STORAGE) ?? undefined
  } catch {
    return undefined
  }
}

function storeKey(key: string | undefined) {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key)
    else localStorage.removeItem(KEY_STORAGE)
  } catch {
    // no storage: the key lasts this visit only
    memoryKey = key
  }
}
let memoryKey: string | undefined
const currentKey = () => savedKey() ?? memoryKey

interface PathwayInput {
  area?: AreaSummary
  category?: string
  selected?: NearestProvider
}

let last: PathwayInput = {}
let generation = 0
let keyRejected = false

/** The key form: saving or forgetting the key shows the pathway again. */
export function bindKeyForm(onChange: () => void) {
  const form = byId<HTMLFormElement>('key-form')
  const input = byId<HTMLInputElement>('api-key')
  const forget = byId<HTMLButtonElement>('api-key-forget')
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const key = input.value.trim()
    if (!key) return
    storeKey(key)
    input.value = ''
    keyRejected = false
    renderKeyStatus()
    onChange()
  })
  forget.addEventListener('click', () => {
    storeKey(undefined)
    memoryKey = undefined
    keyRejected = false
    renderKeyStatus()
    onChange()
  })
  renderKeyStatus()
}

export function renderKeyStatus() {
  const status = byId('key-status')
  const key = currentKey()
  status.textContent = keyRejected ? t('api_key_rejected') : key ? t('api_key_saved') : ''
  status.classList.toggle('warn', keyRejected)
  byId('api-key-forget').hidden = !key
}

/** The focal points registered for the area or, failing that, for the nearest of its parents that has any. */
async function focalPointsFor(area: AreaSummary, key: string): Promise<NearestProvider[]> {
  const chain = [area.pcode]
  try {
    const { data } = await getJson<Area>(`/v1/areas/${encodeURIComponent(area.pcode)}`, { key })
    chain.push(...data.parents.map((p) => p.pcode).reverse())
  } catch {
    // the area itself only
  }
  for (const pcode of chain) {
    const { data } = await getJson<{ items: NearestProvider[] }>(focalPointsUrl(pcode, MAX_FOCAL_POINTS), { key })
    if (data.items.length) return data.items
  }
  return []
}

/** A union has a few focal points (UP member, CTC member, …): each may refer along different links. */
const MAX_FOCAL_POINTS = 5

function renderChain(p: Pathway): HTMLElement {
  const steps: HTMLElement[] = []
  p.providers.forEach((provider, i) => {
    steps.push(h('li', { class: 'step' }, h('span', { class: 'step-name' }, providerName(provider))))
    const link = p.links[i]
    if (link) {
      steps.push(
        h('li', { class: `link health-${link.health}`, 'data-health': link.health }, '↓ ', h('span', { class: 'badge' }, t(`health_${link.health}` as MessageKey))),
      )
    }
  })
  const start = p.providers[0]
  return h(
    'div',
    { class: 'chain' },
    h('p', { class: 'hint' }, `${start ? t('pathway_from', { name: providerName(start) }) : ''} · ${t('pathway_hops', { n: p.hops })}`),
    h('ol', { class: 'steps' }, ...steps),
  )
}

export async function renderPathway(container: HTMLElement, input: PathwayInput = last) {
  last = input
  const mine = ++generation
  const key = currentKey()
  const say = (msgKey: MessageKey) => container.replaceChildren(h('p', { class: 'hint' }, t(msgKey)))
  if (!key) {
    container.replaceChildren()
    return
  }
  const { area, category, selected } = input
  if (!area || !category || !selected) return say('pathway_choose')
  say('pathway_loading')
  try {
    const focalPoints = await focalPointsFor(area, key)
    if (mine !== generation) return
    if (!focalPoints.length) return say('pathway_no_focal')
    const answers = await Promise.all(
      focalPoints.map((f) => getJson<PathwaysResult>(`/v1/pathways?${new URLSearchParams({ from: f.id, category, limit: '10' })}`, { key })),
    )
    if (mine !== generation) return
    const chains = answers.flatMap((a) => a.data.items)
    const toSelected = chains.filter((p) => p.provider_ids[p.provider_ids.length - 1] === selected.id)
    const others = chains.filter((p) => !toSelected.includes(p)).slice(0, 3)
    // Each chain starts at its focal point, so it names where the referral begins.
    container.replaceChildren(
      ...(toSelected.length ? toSelected.slice(0, 5).map(renderChain) : [h('p', { class: 'warn' }, t('pathway_none'))]),
      ...(!toSelected.length && others.length ? [h('p', {}, t('pathway_others')), ...others.map(renderChain)] : []),
    )
  } catch (err) {
    if (mine !== generation) return
    if (err instanceof HttpError && (err.status === 401 || err.status === 403)) {
      keyRejected = true
      renderKeyStatus()
    }
    say('pathway_error')
  }
}
