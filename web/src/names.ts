// Names in the chosen script when the directory has them: a provider's names[lang], an area's name_local when the
// language is the area's own (Bangla for Bangladesh, Khmer for Cambodia).
import type { AreaSummary, Provider } from './api.js'
import { lang, t, type MessageKey } from './i18n/index.js'

const LOCAL_LANG: Record<string, string> = { BGD: 'bn', KHM: 'km' }

/** In English, the provider's own name (names.en may leave out what name says, such as a demo marker). */
export const providerName = (p: Pick<Provider, 'name'> & { names?: Record<string, string> }) =>
  (lang() !== 'en' && p.names?.[lang()]) || p.name

export const areaName = (a: Pick<AreaSummary, 'name_en' | 'name_local' | 'country'>) =>
  a.name_local && LOCAL_LANG[a.country] === lang() ? a.name_local : a.name_en

/** "Barguna Sadar (upazila)", the level in the chosen language. */
export function areaLabel(a: AreaSummary): string {
  const key = `level_${a.level_name}` as MessageKey
  const level = t(key) === key ? a.level_name : t(key)
  return `${areaName(a)} (${level})`
}

/** A language code (bn, en, km) as the chosen language names it. */
export function languageName(code: string): string {
  try {
    return new Intl.DisplayNames([lang()], { type: 'language' }).of(code) ?? code
  } catch {
    return code
  }
}
