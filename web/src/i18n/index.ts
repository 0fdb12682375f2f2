// The page's three languages: chosen from the browser on the first visit, then as the user last chose (localStorage).
// Every string goes through t(); numbers, distances and dates through Intl for the language's locale.
import { bn } from './bn.js'
import { en, type Messages } from './en.js'
import { km } from './km.js'

export const LANGS = ['bn', 'km', 'en'] as const
export type Lang = (typeof LANGS)[number]
export type MessageKey = keyof Messages

const MESSAGES: Record<Lang, Messages> = { bn, km, en }
/** BCP 47 locale for Intl: Bangladesh's and Cambodia's conventions (Bengali digits in bn-BD). */
export const LOCALES: Record<Lang, string> = { bn: 'bn-BD', km: 'km-KH', en: 'en' }
/** Each language's own name, as the language menu shows it. */
export const LANG_NAMES: Record<Lang, string> = { bn: 'বাংলা', km: 'ខ្មែរ', en: 'English' }

const STORAGE_KEY = 'setu.lang'

function stored(key: string): string | null {
  try {
    return localStorage.getItem(key)
  } catch {
    return null // storage disabled (private mode on some phones): the choice lasts the visit
  }
}

/** The remembered choice, else the first of the browser's languages that the page speaks, else English. */
export function initialLang(): Lang {
  const saved = stored(STORAGE_KEY)
  if (saved && (LANGS as readonly string[]).includes(saved)) return saved as Lang
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.toLowerCase().split('-')[0]
    if ((LANGS as readonly string[]).includes(base)) return base as Lang
  }
  return 'en'
}

let current: Lang = 'en'
const listeners: Array<(lang: Lang) => void> = []

export const lang = () => current
export const locale = () => LOCALES[current]

export function setLang(next: Lang, remember = true) {
  current = next
  document.documentElement.lang = next
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, next)
    } catch {
      // see stored()
    }
  }
  for (const fn of listeners) fn(next)
}

export const onLangChange = (fn: (lang: Lang) => void) => listeners.push(fn)

/** The message in the current language with {name} placeholders filled; numbers formatted for the locale. */
export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const text: string = MESSAGES[current][key] ?? en[key] ?? key
  return text.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = params[name]
    return v === undefined ? `{${name}}` : typeof v === 'number' ? formatNumber(v) : v
  })
}

export const formatNumber = (n: number, options?: Intl.NumberFormatOptions) => new Intl.NumberFormat(locale(), options).format(n)

/** Metres as the locale writes them: "850 m", "3.4 km", "২৩ কিমি". Under 1 km to 10 m, under 10 km to 100 m. */
export function formatDistance(metres: number): string {
  if (metres < 1000) return formatNumber(Math.max(10, Math.round(metres / 10) * 10), { style: 'unit', unit: 'meter', unitDisplay: 'short' })
  const km = metres / 1000
  return formatNumber(km, { style: 'unit', unit: 'kilometer', unitDisplay: 'short', maximumFractionDigits: km < 10 ? 1 : 0 })
}

// Chromium's ICU data has no Khmer month names (it writes "2025 M06 19"): Khmer dates are written here.
const KHMER_MONTHS = ['មករា', 'កុម្ភៈ', 'មីនា', 'មេសា', 'ឧសភា', 'មិថុនា', 'កក្កដា', 'សីហា', 'កញ្ញា', 'តុលា', 'វិច្ឆិកា', 'ធ្នូ']
const khmerDate = (d: Date) => `${d.getDate()} ${KHMER_MONTHS[d.getMonth()]} ${d.getFullYear()}`
const pad2 = (n: number) => String(n).padStart(2, '0')

/** A calendar date (YYYY-MM-DD from the API) in the locale, read as a date, not a UTC instant. */
export function formatDate(isoDate: string): string {
  const [y, m, d] = isoDate.slice(0, 10).split('-').map(Number)
  const date = new Date(y, m - 1, d)
  return current === 'km' ? khmerDate(date) : new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' }).format(date)
}

/** A moment (when results were fetched) in the phone's time zone. */
export const formatDateTime = (when: Date) =>
  current === 'km'
    ? `${khmerDate(when)} ${pad2(when.getHours())}:${pad2(when.getMinutes())}`
    : new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(when)

/** Fills every element marked data-i18n (text) or data-i18n-placeholder / data-i18n-label (attributes). */
export function translateStatic(root: ParentNode = document) {
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]')) el.textContent = t(el.dataset.i18n as MessageKey)
  for (const el of root.querySelectorAll<HTMLInputElement>('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder as MessageKey)
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel as MessageKey))
}

/** The language menu: each language in its own script, the current one selected. */
export function bindLanguageSelect(select: HTMLSelectElement) {
  select.replaceChildren(
    ...LANGS.map((l) => {
      const option = document.createElement('option')
      option.value = l
      option.lang = l
      option.textContent = LANG_NAMES[l]
      return option
    }),
  )
  select.value = current
  select.addEventListener('change', () => setLang(select.value as Lang))
}

// Opening hours come as the directory stores them, in OpenStreetMap's syntax ("Su-Th 09:00-17:00", "24/7"):
// the day names and digits are written in the chosen language, the rest left as it is.
const OSM_DAYS = ['Su', 'Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa']
const KHMER_DAYS = ['អាទិត្យ', 'ចន្ទ', 'អង្គារ', 'ពុធ', 'ព្រហស្បតិ៍', 'សុក្រ', 'សៅរ៍']

function dayName(index: number): string {
  if (current === 'km') return KHMER_DAYS[index]
  // 2023-01-01 was a Sunday
  return new Intl.DateTimeFormat(locale(), { weekday: 'short' }).format(new Date(2023, 0, 1 + index))
}

export function formatHours(hours: string): string {
  if (hours.trim() === '24/7') return t('hours_always')
  return hours
    .replace(/\b(Mo|Tu|We|Th|Fr|Sa|Su)\b/g, (d) => dayName(OSM_DAYS.indexOf(d)))
    .replace(/\d+/g, (digits) => formatNumber(Number(digits), { useGrouping: false, minimumIntegerDigits: digits.length }))
}
