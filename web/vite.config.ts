// The field page: two HTML entries (the page and the printable union directory) built into dist/web by
// scripts/build.mjs. Everything is served by setu itself: no CDN, fonts bundled, nothing fetched at build time.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig, type Plugin } from 'vite'
import { CATEGORIES, ICONS } from './src/icons.js'

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))

/**
 * Emits sw.js from web/sw.js with the list of files to precache written in: the HTML pages, their scripts and
 * styles. Its cache name comes from that list, so a new build replaces the old shell.
 */
function serviceWorker(): Plugin {
  return {
    name: 'setu-service-worker',
    apply: 'build',
    // after Vite's own HTML plugin has emitted the pages
    enforce: 'post',
    generateBundle(_options, bundle) {
      // The bundle and the files copied from public/, but not the map (MapLibre, ~360 kB compressed) nor the fonts
      // (one script's is enough): a first visit on a paid, slow connection should not download what it may never
      // use. sw.js caches those when the page uses them.
      const files = [...Object.keys(bundle), ...readdirSync(here('./public'))].filter(
        (f) => !/\.(map|woff2?)$/.test(f) && !/^assets\/(map-|maplibre-gl-worker)/.test(f) && f !== 'sw.js',
      )
      const shell = ['/', ...files.filter((f) => f !== 'index.html').map((f) => `/${f}`)].sort()
      let hash = 0
      for (const ch of shell.join('\n')) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0
      const source = readFileSync(here('./sw.js'), 'utf8')
        .replace('self.__SHELL__', JSON.stringify(shell))
        .replace('self.__VERSION__', JSON.stringify(hash.toString(36)))
      this.emitFile({ type: 'asset', fileName: 'sw.js', source })
    },
  }
}

/**
 * The five category buttons written into index.html at build time (English words, replaced on start by the page's
 * language), so that they are there at first paint and nothing moves when the script runs.
 */
function categoryButtons(): Plugin {
  const words: Record<string, string> = {
    shelter: 'Shelter',
    health: 'Doctor, health',
    legal: 'Lawyer, legal aid',
    counselling: 'Counselling',
    livelihood: 'Livelihood, work',
  }
  const buttons = CATEGORIES.map(
    (c) =>
      `<button type="button" class="category" data-category="${c}" aria-pressed="false">${ICONS[c]}<span data-i18n="cat_${c}">${words[c]}</span></button>`,
  ).join('\n')
  return {
    name: 'setu-category-buttons',
    transformIndexHtml: (html) => html.replace('<!--categories-->', buttons),
  }
}

export default defineConfig({
  root: here('.'),
  base: '/',
  publicDir: here('./public'),
  logLevel: 'warn',
  plugins: [categoryButtons(), serviceWorker()],
  build: {
    target: 'es2022',
    // Fonts and icons as files, never data: URIs (the page's Content-Security-Policy allows only 'self').
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      input: { index: here('./index.html'), directory: here('./directory.html') },
    },
  },
})
