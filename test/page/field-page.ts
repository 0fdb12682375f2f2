// What the field page tests share: the demo areas they search, the steps a field worker takes on the page (through
// the data-testid hooks of the page contract), and the answers the page must show, asked of the API over HTTP as
// the same anonymous caller, never written down.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { PROJECT_ROOT } from '../../src/db/database.js'
import { bn } from '../../web/src/i18n/bn.js'
import { en } from '../../web/src/i18n/en.js'
import { km } from '../../web/src/i18n/km.js'
import { getJson, type PageServer } from '../helpers/browser.js'

export const CATEGORIES = ['health', 'legal', 'counselling', 'shelter', 'livelihood'] as const
export type Category = (typeof CATEGORIES)[number]
export type Lang = 'bn' | 'km' | 'en'

/** The page's own strings (web/src/i18n), to compare what it shows with what it should say. */
export const MESSAGES = { bn, km, en } as const

export interface DemoArea {
  pcode: string
  name_en: string
  name_local: string
  country: 'BGD' | 'KHM'
  /** The seed file it came from, e.g. BGD_4.geojson (unions) or BGD_2.geojson (districts) before unions exist. */
  file: string
}

const AREAS_DIR = path.join(PROJECT_ROOT, 'seeds', 'areas')

interface SeedFeature {
  properties: { pcode: string; name_en: string; name_local?: string | null }
}

const readFeatures = (file: string): SeedFeature[] =>
  existsSync(path.join(AREAS_DIR, file)) ? (JSON.parse(readFileSync(path.join(AREAS_DIR, file), 'utf8')) as { features: SeedFeature[] }).features : []

/**
 * The demo areas of the finest level the seeds have (unions BGD_4, communes KHM_3; districts before those exist)
 * whose local name is no part of any other demo area's name, so that searching for it finds it alone; by pcode.
 */
export function demoAreas(country: 'BGD' | 'KHM'): DemoArea[] {
  const levels = country === 'BGD' ? ['BGD_4', 'BGD_3', 'BGD_2'] : ['KHM_3', 'KHM_2']
  const all = readdirAreas().flatMap((f) => readFeatures(f).map((x) => x.properties))
  for (const level of levels) {
    const file = `${level}.geojson`
    const candidates = readFeatures(file)
      .map((f) => f.properties)
      .filter((p) => p.name_local && all.filter((o) => o.name_local?.includes(p.name_local!) || o.name_en.includes(p.name_en)).length === 1)
      .sort((a, b) => a.pcode.localeCompare(b.pcode))
    if (candidates.length > 0) return candidates.map((p) => ({ pcode: p.pcode, name_en: p.name_en, name_local: p.name_local!, country, file }))
  }
  throw new Error(`no demo area of ${country} with a unique local name in ${AREAS_DIR}`)
}

/** The first of demoAreas: the one most tests search. */
export const demoArea = (country: 'BGD' | 'KHM') => demoAreas(country)[0]

const readdirAreas = () => ['BGD_1', 'BGD_2', 'BGD_3', 'BGD_4', 'KHM_1', 'KHM_2', 'KHM_3'].map((l) => `${l}.geojson`)

export interface ApiProvider {
  id: string
  name: string
  names: Record<string, string>
  phones: string[]
  kind: string
  categories: string[]
  distance_m?: number
}

/**
 * The name the page shows in `lang`: the provider's name in that script when the directory has it; in English the
 * provider's own name (names.en may leave out part of it, such as the demo marker).
 */
export const shownName = (p: { name: string; names?: Record<string, string> }, lang: Lang) => (lang !== 'en' && p.names?.[lang]) || p.name

/** The area's point (rep_point), which the page searches from once the area is chosen. */
export async function areaPoint(server: PageServer, pcode: string) {
  const area = await getJson<{ rep_point: { lat: number; lon: number } }>(server, `/v1/areas/${pcode}`)
  return area.rep_point
}

/** What GET /v1/providers/nearest answers an anonymous caller for the area's point. */
/**
 * The nearest services the page should list: the API's nearest providers of the category, without the community
 * focal points (the page shows them as the ones who refer, not as services). Filtered here, from a longer list,
 * rather than with the API's not_kind, so that the test does not take the page's own query as the answer.
 */
export async function expectedNearest(server: PageServer, pcode: string, category: Category, limit = 25) {
  const { lat, lon } = await areaPoint(server, pcode)
  const res = await getJson<{ items: ApiProvider[] }>(server, `/v1/providers/nearest?lat=${lat}&lon=${lon}&category=${category}&limit=100`)
  return res.items.filter((p) => p.kind !== 'focal_point').slice(0, limit)
}

/** The area's own active focal points, as the API lists them. */
export async function focalPointsOf(server: PageServer, pcode: string) {
  const res = await getJson<{ items: ApiProvider[] }>(server, `/v1/providers?kind=focal_point&status=active&area=${pcode}&limit=100`)
  return res.items
}

/** The first demo area of the country that has focal points of its own, so that the directory's section shows. */
export async function areaWithFocalPoints(server: PageServer, country: 'BGD' | 'KHM'): Promise<DemoArea> {
  for (const area of demoAreas(country)) if ((await focalPointsOf(server, area.pcode)).length) return area
  throw new Error(`no demo area of ${country} has focal points of its own`)
}

/** A phone number as the digits (and leading +) a tel: link dials. */
export const dialled = (phone: string) => decodeURIComponent(phone.replace(/^tel:/, '')).replace(/[^\d+]/g, '')

/** Text compared without any whitespace: pdftotext and line wrapping put spaces where the source has none. */
export const squeezed = (s: string) => s.replace(/\s+/g, '')

// ---- Steps on the page, through the contract's hooks ----

export const byTestId = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`)

/** Opens the page and waits until its controls are there. */
export async function openFieldPage(page: Page, server: PageServer, query = '') {
  await page.goto(`${server.origin}/${query}`)
  await byTestId(page, 'area-search').waitFor({ state: 'visible' })
}

/** Types `text` in the area search and chooses the suggestion that names `name` (the area's name in that script). */
export async function chooseArea(page: Page, text: string, name = text) {
  const input = byTestId(page, 'area-search')
  await input.fill(text)
  const option = page.locator('[role="listbox"] [role="option"]', { hasText: name }).first()
  await option.waitFor({ state: 'visible' })
  await option.click()
  await page.locator('[data-testid="selected-area"]', { hasText: name }).waitFor({ state: 'visible' })
}

/**
 * Presses a category button and waits until it is pressed and the list shows the answer to the page's own request
 * for that category: a list of every category may already be on screen (the page searches as soon as it has a
 * place), so a result being visible proves nothing. The tests ask for categories the demo has near every area.
 */
export async function chooseCategory(page: Page, category: Category) {
  const answered = page.waitForResponse((r) => {
    const url = new URL(r.url())
    return url.pathname === '/v1/providers/nearest' && url.searchParams.get('category') === category && r.ok()
  })
  await page.locator(`button[data-category="${category}"]`).click()
  await page.locator(`button[data-category="${category}"][aria-pressed="true"]`).waitFor()
  const { items } = (await (await answered).json()) as { items: { id: string }[] }
  await page.waitForFunction(
    (first) => document.querySelector('[data-testid="result"]')?.getAttribute('data-provider-id') === first,
    items[0]?.id,
  )
  await byTestId(page, 'result').first().waitFor({ state: 'visible' })
}

/** The listed results: provider id, shown name and dialled numbers, in the order shown. */
export async function shownResults(page: Page) {
  return byTestId(page, 'result').evaluateAll((els) =>
    els.map((el) => ({
      id: el.getAttribute('data-provider-id'),
      name: el.querySelector('[data-testid="result-name"]')?.textContent?.trim() ?? '',
      tel: [...el.querySelectorAll('a[href^="tel:"]')].map((a) => a.getAttribute('href') ?? ''),
    })),
  )
}

export async function chooseLanguage(page: Page, lang: Lang) {
  await byTestId(page, 'language').selectOption(lang)
  await page.waitForFunction((l) => document.documentElement.lang.startsWith(l), lang)
}

export const htmlLang = (page: Page) => page.evaluate(() => document.documentElement.lang)

/** A script's letters: Bengali, Khmer, Latin. */
export const SCRIPT: Record<Lang, RegExp> = { bn: /[\u0980-\u09FF]/, km: /[\u1780-\u17FF]/, en: /[A-Za-z]/ }
