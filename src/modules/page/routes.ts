// The field page (web/, built by scripts/build.mjs into dist/web): each built file gets a route of its own, so an
// unknown path still reaches the API's 404 problem instead of a static catch-all. Only GET / is documented.
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { z } from 'zod'
import { PROJECT_ROOT } from '../../db/database.js'
import { Problem, ProblemSchema, PROBLEM_MEDIA_TYPE } from '../../lib/problem.js'

/** Where scripts/build.mjs puts the page (WEB_OUT there). */
export const WEB_ROOT = path.join(PROJECT_ROOT, 'dist', 'web')

/**
 * For the page's HTML and its service worker only; the API's answers keep helmet's headers without a CSP (/docs
 * needs inline scripts). MapLibre: its worker is a same-origin file but may be wrapped in a blob: URL, and it draws
 * images from data:/blob: URLs. Its element styles are set through the DOM (el.style), which style-src does not
 * govern, so no 'unsafe-inline' (checked in Chromium: no CSP report with the map loaded).
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "worker-src 'self' blob:",
  "child-src 'self' blob:",
  "img-src 'self' data: blob:",
  "style-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ')

/** Files named by content hash (Vite's assets/): safe to keep for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable'
/** Everything else (HTML, sw.js) is revalidated on every use, so a new build reaches phones on their next visit. */
const REVALIDATE = 'no-cache'
// Served beside their source when the client accepts them (preCompressed), never on their own.
const PRECOMPRESSED = /\.(br|gz)$/

function filesUnder(root: string, dir = ''): string[] {
  const out: string[] = []
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name
    if (entry.isDirectory()) out.push(...filesUnder(root, rel))
    else if (!PRECOMPRESSED.test(entry.name) && !entry.name.startsWith('.')) out.push(rel)
  }
  return out
}

const hasPage = (root: string) => {
  try {
    return statSync(path.join(root, 'index.html')).isFile()
  } catch {
    return false
  }
}

const startPageSchema = {
  tags: ['system'],
  summary: 'The field page',
  description:
    'The field page for Union Parishad, CTC and NGO staff: nearest services in Bangla, Khmer or English, on a phone, ' +
    'with the union directory to print (/directory.html?area=<pcode>). The API index is at /v1, its documentation at /docs. ' +
    '503 when the page has not been built (run npm run build).',
  response: {
    200: { description: 'The page (HTML)', content: { 'text/html': { schema: z.string() } } },
    304: z.null().meta({ description: 'Not Modified: the page is the one named by If-None-Match' }),
    503: { description: 'The page has not been built', content: { [PROBLEM_MEDIA_TYPE]: { schema: ProblemSchema } } },
  },
}

export const pageRoutes: FastifyPluginAsync<{ root?: string }> = async (app, { root = WEB_ROOT }) => {
  if (!hasPage(root)) {
    // A developer running from src/ without a build: say what to do, rather than a bare 404.
    app.get('/', { config: { access: 'public' }, schema: startPageSchema }, async () => {
      throw new Problem(503, 'Service Unavailable', `The field page has not been built (${path.relative(PROJECT_ROOT, root) || root} is missing): run npm run build`)
    })
    return
  }

  await app.register(fastifyStatic, { root, serve: false, preCompressed: true, etag: true, lastModified: true })

  const send = (file: string, reply: FastifyReply) => {
    const immutable = file.startsWith('assets/')
    if (file.endsWith('.html') || file === 'sw.js') reply.header('content-security-policy', PAGE_CSP)
    if (file === 'sw.js') reply.header('service-worker-allowed', '/')
    reply.header('cache-control', immutable ? IMMUTABLE : REVALIDATE)
    return reply.sendFile(file, { cacheControl: false })
  }

  app.get('/', { config: { access: 'public' }, schema: startPageSchema }, (_request, reply) => send('index.html', reply))
  for (const file of filesUnder(root)) {
    app.get(`/${file}`, { config: { access: 'public' }, schema: { hide: true } }, (_request, reply) => send(file, reply))
  }
}
