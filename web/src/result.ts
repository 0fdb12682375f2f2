// One service in the results list: what a case worker needs to decide and to call, in the chosen language.
import type { MouStatus, NearestProvider } from './api.js'
import { h, svg } from './dom.js'
import { PHONE_ICON } from './icons.js'
import { formatDate, formatDistance, formatHours, t, type MessageKey } from './i18n/index.js'
import { languageName, providerName } from './names.js'

/** As the API's VERIFICATION_STALE_MONTHS default: a service not checked for a year may have moved or closed. */
export const STALE_MONTHS = 12

export function isStale(verifiedOn: string | undefined, now = new Date()): boolean {
  if (!verifiedOn) return true
  const [y, m, d] = verifiedOn.slice(0, 10).split('-').map(Number)
  const limit = new Date(now.getFullYear(), now.getMonth() - STALE_MONTHS, now.getDate())
  return new Date(y, m - 1, d) < limit
}

/** tel: wants the digits (and a leading +) only. */
export const telHref = (phone: string) => `tel:${phone.replace(/[^\d+]/g, '')}`

export function eligibilityText(p: NearestProvider): string {
  const { genders, min_age, max_age } = p.eligibility
  const parts: string[] = []
  if (genders.length) parts.push(genders.map((g) => t(`gender_${g}` as MessageKey)).join(', '))
  if (min_age !== null && max_age !== null) parts.push(t('ages_range', { min: min_age, max: max_age }))
  else if (min_age !== null) parts.push(t('ages_from', { min: min_age }))
  else if (max_age !== null) parts.push(t('ages_to', { max: max_age }))
  return parts.length ? parts.join('; ') : t('everyone')
}

export const requirementsText = (p: Pick<NearestProvider, 'eligibility'>) =>
  p.eligibility.requires.length ? p.eligibility.requires.map((r) => t(`req_${r}` as MessageKey)).join(', ') : t('needs_nothing')

export const costText = (p: Pick<NearestProvider, 'cost'>) => t(p.cost ? (`cost_${p.cost}` as MessageKey) : 'cost_unknown')

/** The MOU status for the category asked about; without one, the best the provider has for any category. */
export function mouStatusOf(p: NearestProvider, category?: string): MouStatus {
  if (category && p.mou_status[category]) return p.mou_status[category]
  const order: MouStatus[] = ['signed', 'negotiating', 'expired', 'none']
  const all = Object.values(p.mou_status)
  return order.find((s) => all.includes(s)) ?? 'none'
}

/** The label for a location the caller is not shown exactly, if any. */
export function locationNoteKey(p: Pick<NearestProvider, 'location' | 'location_masked' | 'location_visibility'>): MessageKey | undefined {
  if (!p.location_masked) return undefined
  return p.location === null || p.location_visibility === 'hidden' ? 'location_hidden' : 'location_approximate'
}

const fact = (label: string, value: string) => [h('dt', {}, label), h('dd', {}, value)]

export function renderResult(
  p: NearestProvider,
  { category, selected, onSelect }: { category?: string; selected: boolean; onSelect: (id: string) => void },
): HTMLLIElement {
  const stale = isStale(p.verification?.on)
  const note = locationNoteKey(p)
  const name = providerName(p)
  const mou = mouStatusOf(p, category)
  return h(
    'li',
    { class: `result${selected ? ' selected' : ''}`, 'data-testid': 'result', 'data-provider-id': p.id },
    h('h3', { 'data-testid': 'result-name', class: 'result-name' }, name),
    h('p', { class: 'distance', 'data-testid': 'result-distance' }, t('away', { distance: formatDistance(p.distance_m) })),
    note ? h('p', { class: 'note warn', 'data-testid': 'result-location-note' }, t(note)) : null,
    p.phones.length
      ? h(
          'p',
          { class: 'phones' },
          ...p.phones.map((phone) =>
            h('a', { class: 'call', href: telHref(phone), 'aria-label': t('call', { phone }) }, svg(PHONE_ICON), h('span', { dir: 'ltr' }, phone)),
          ),
        )
      : null,
    h(
      'dl',
      { class: 'facts' },
      ...fact(t('hours'), p.opening_hours ? formatHours(p.opening_hours) : t('hours_unknown')),
      ...fact(t('who_can_come'), eligibilityText(p)),
      ...fact(t('needs'), requirementsText(p)),
      ...fact(t('cost'), costText(p)),
      ...(p.languages.length ? fact(t('languages'), p.languages.map(languageName).join(', ')) : []),
      ...fact(t('mou'), t(`mou_${mou}` as MessageKey)),
      ...(p.address ? fact(t('address'), p.address) : []),
    ),
    h(
      'p',
      { class: `verified${stale ? ' stale' : ''}`, 'data-testid': 'result-verified', 'data-stale': String(stale) },
      p.verification ? t('verified_on', { date: formatDate(p.verification.on) }) : t('never_verified'),
      stale ? h('strong', { class: 'warn' }, ` ${t('stale_warning')}`) : null,
    ),
    h(
      'button',
      { type: 'button', class: 'secondary show-on-map', 'aria-pressed': String(selected), onclick: (() => onSelect(p.id)) as EventListener },
      // a toggle keeps its name; aria-pressed (and the card's outline) says whether it is on
      t('show_on_map'),
    ),
  )
}
