// The union directory to pin on the Union Parishad wall: for one area (?area=<pcode>), the nearest active service of
// each category from the area's representative point, with phones, hours and requirements, then the area's own
// focal points (who refers), the date printed and "verify before referring", in the chosen language. An A4 print
// stylesheet (directory.css).
import './fonts.js'
import './style.css'
import './directory.css'
import { focalPointsUrl, getJson, nearestUrl, type Area, type NearestProvider } from './api.js'
import { byId, h, svg } from './dom.js'
import { bindLanguageSelect, formatDate, formatDateTime, formatDistance, formatHours, initialLang, onLangChange, setLang, t, translateStatic, type MessageKey } from './i18n/index.js'
import { CATEGORIES, ICONS, type Category } from './icons.js'
import { areaLabel, providerName } from './names.js'
import { costText, eligibilityText, locationNoteKey, requirementsText, telHref } from './result.js'
import { registerServiceWorker } from './sw-register.js'

type Entry = { category: Category; provider?: NearestProvider }

let area: Area | undefined
let entries: Entry[] = []
let focalPoints: NearestProvider[] = []
let failed = false
let cachedAt: Date | undefined
const printedOn = new Date()

/** A union has a few focal points (UP member, CTC member, teacher, …). */
const MAX_FOCAL_POINTS = 10

const pcode = new URLSearchParams(location.search).get('area')?.trim() ?? ''

function renderEntry({ category, provider: p }: Entry): HTMLElement {
  const heading = h('h2', { class: 'entry-category' }, svg(ICONS[category]), h('span', {}, t(`cat_${category}` as MessageKey)))
  if (!p) return h('section', { class: 'entry', 'data-testid': 'directory-entry', 'data-category': category }, heading, h('p', { class: 'none' }, t('directory_none')))
  const note = locationNoteKey(p)
  return h(
    'section',
    { class: 'entry', 'data-testid': 'directory-entry', 'data-category': category, 'data-provider-id': p.id },
    heading,
    h('h3', { class: 'entry-name' }, providerName(p)),
    h(
      'p',
      { class: 'phones' },
      ...p.phones.map((phone) => h('a', { class: 'call', href: telHref(phone), dir: 'ltr' }, phone)),
    ),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, t('hours')),
      h('dd', {}, p.opening_hours ? formatHours(p.opening_hours) : t('hours_unknown')),
      h('dt', {}, t('who_can_come')),
      h('dd', {}, eligibilityText(p)),
      h('dt', {}, t('needs')),
      h('dd', {}, requirementsText(p)),
      h('dt', {}, t('cost')),
      h('dd', {}, costText(p)),
      h('dt', {}, t('distance')),
      h('dd', {}, formatDistance(p.distance_m)),
      h('dt', {}, t('last_checked')),
      h('dd', {}, p.verification ? formatDate(p.verification.on) : t('never_verified')),
    ),
    note ? h('p', { class: 'note' }, t(note)) : null,
  )
}

/** The area's focal points: the people to call first to refer someone, with their phones. */
function renderFocalPoints(): HTMLElement | null {
  if (!focalPoints.length) return null
  return h(
    'section',
    { class: 'entry focal-points', 'data-testid': 'directory-focal-points' },
    h('h2', { class: 'entry-category' }, h('span', {}, t('directory_focal_points'))),
    h(
      'ul',
      {},
      ...focalPoints.map((p) =>
        h(
          'li',
          { 'data-testid': 'directory-focal-point', 'data-provider-id': p.id },
          h('span', { class: 'entry-name' }, providerName(p)),
          ' ',
          ...p.phones.map((phone) => h('a', { class: 'call', href: telHref(phone), dir: 'ltr' }, phone)),
        ),
      ),
    ),
  )
}

function render() {
  translateStatic()
  if (pcode) byId<HTMLAnchorElement>('back').href = `/?area=${encodeURIComponent(pcode)}`
  const where = area ? areaLabel(area) : ''
  document.title = area ? `${t('directory_title')}: ${where}` : t('directory_title')
  byId('title').textContent = area ? `${t('directory_title')}: ${where}` : t('directory_title')
  byId('subtitle').textContent = area ? t('directory_for', { area: where }) : ''
  byId('printed-on').textContent = t('printed_on', { date: formatDate(printedOn.toISOString().slice(0, 10)) })
  const status = byId('status')
  if (!pcode) status.textContent = t('directory_choose')
  else if (failed) status.textContent = t(navigator.onLine ? 'status_error' : 'status_offline_none')
  else if (!area) status.textContent = t('loading')
  else status.textContent = cachedAt ? t('status_offline') : ''
  const fetchedAt = byId('fetched-at')
  fetchedAt.hidden = !cachedAt
  fetchedAt.textContent = cachedAt ? t('fetched_at', { date: formatDateTime(cachedAt) }) : ''
  const focal = renderFocalPoints()
  byId('directory').replaceChildren(...entries.map(renderEntry), ...(focal ? [focal] : []))
}

async function load() {
  if (!pcode) return render()
  try {
    const answer = await getJson<Area>(`/v1/areas/${encodeURIComponent(pcode)}`)
    area = answer.data
    render()
    const [focal, ...answers] = await Promise.all([
      getJson<{ items: NearestProvider[] }>(focalPointsUrl(pcode, MAX_FOCAL_POINTS)),
      ...CATEGORIES.map((category) => getJson<{ items: NearestProvider[] }>(nearestUrl(area!.rep_point, { category }, 1))),
    ])
    entries = CATEGORIES.map((category, i) => ({ category, provider: answers[i].data.items[0] }))
    focalPoints = focal.data.items
    cachedAt = [answer, focal, ...answers].map((a) => a.cachedAt).find(Boolean)
  } catch {
    failed = true
  }
  render()
  document.body.dataset.ready = 'true'
}

setLang(initialLang(), false)
bindLanguageSelect(byId<HTMLSelectElement>('language'))
onLangChange(render)
byId('print').addEventListener('click', () => window.print())
render()
void load()
registerServiceWorker()
