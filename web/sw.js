// setu's field page offline. Built by web/vite.config.ts, which writes in the list of the page's files (SHELL) and
// a version made from it, so that a new build installs a new shell and drops the old one.
// - The shell (HTML, hashed scripts and styles, icon): precached on install; hashed files (the shell's, and the
//   fonts and map when the page first uses them) cache-first; the HTML network-first, so that a new build shows
//   on the next visit online.
// - The API (GET /v1/…, same origin, without a key): network-first; each answer is kept with the time it was
//   fetched, and served from the cache when the network fails, with X-Setu-Cached-At so the page can say so.
// Nothing from any other origin is touched.
const SHELL = self.__SHELL__
const VERSION = self.__VERSION__
const SHELL_CACHE = `setu-shell-${VERSION}`
const API_CACHE = 'setu-api-v1'
/** The most API answers kept: the last searches (and their map tiles), oldest dropped first. */
const API_ENTRIES = 300

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  )
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('setu-shell-') && k !== SHELL_CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  )
})

self.addEventListener('fetch', (event) => {
  const request = event.request
  if (request.method !== 'GET') return
  const url = new URL(request.url)
  if (url.origin !== self.location.origin) return
  if (url.pathname.startsWith('/v1/')) {
    // Answers for a key stay out of the cache: they may show what anonymous visitors may not see.
    if (request.headers.has('authorization')) return
    event.respondWith(networkFirstApi(request))
  } else if (request.mode === 'navigate' || url.pathname.endsWith('.html') || url.pathname === '/') {
    event.respondWith(networkFirstPage(request, url))
  } else if (url.pathname.startsWith('/assets/') || SHELL.includes(url.pathname)) {
    event.respondWith(cacheFirst(request))
  }
})

async function networkFirstApi(request) {
  const cache = await caches.open(API_CACHE)
  try {
    const response = await fetch(request)
    if (response.ok) {
      const headers = new Headers(response.headers)
      headers.set('x-setu-fetched-at', new Date().toISOString())
      const body = await response.clone().arrayBuffer()
      await cache.put(request, new Response(body, { status: response.status, statusText: response.statusText, headers }))
      void trim(cache)
    }
    return response
  } catch (err) {
    const cached = await cache.match(request)
    if (!cached) {
      return new Response(JSON.stringify({ title: 'Offline', status: 504, detail: 'offline and not cached' }), {
        status: 504,
        headers: { 'content-type': 'application/problem+json', 'x-setu-offline': '1' },
      })
    }
    const headers = new Headers(cached.headers)
    headers.set('x-setu-cached-at', cached.headers.get('x-setu-fetched-at') ?? '')
    return new Response(await cached.arrayBuffer(), { status: cached.status, statusText: cached.statusText, headers })
  }
}

async function trim(cache) {
  const keys = await cache.keys()
  for (const key of keys.slice(0, Math.max(0, keys.length - API_ENTRIES))) await cache.delete(key)
}

async function networkFirstPage(request, url) {
  const cache = await caches.open(SHELL_CACHE)
  try {
    const response = await fetch(request)
    if (response.ok) await cache.put(url.pathname === '/' ? '/' : url.pathname, response.clone())
    return response
  } catch (err) {
    // The page's own query (?area=…) does not change the HTML.
    const cached = (await cache.match(url.pathname === '/' ? '/' : url.pathname)) ?? (await cache.match('/'))
    if (cached) return cached
    throw err
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request)
  if (cached) return cached
  const response = await fetch(request)
  if (response.ok) {
    const cache = await caches.open(SHELL_CACHE)
    await cache.put(request, response.clone())
  }
  return response
}
