import { readFileSync } from 'node:fs'
import path from 'node:path'
import SwaggerParser from '@apidevtools/swagger-parser'
import t from 'tap'
import { PROJECT_ROOT } from '../../src/db/database.js'
import { buildOpenapiDocument } from '../../src/openapi-document.js'
import { buildTestApp } from '../helpers/app.js'

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const
type Operation = { summary?: string; description?: string; tags?: string[] } & Record<string, unknown>

const hasExample = (node: unknown): boolean => {
  if (!node || typeof node !== 'object') return false
  if ('example' in node || 'examples' in node) return true
  return Object.values(node).some(hasExample)
}

t.test('the committed openapi/openapi.json is what the app serves (run `npm run openapi`)', async (t) => {
  const committed = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'openapi', 'openapi.json'), 'utf8'))
  const current = JSON.parse(JSON.stringify(await buildOpenapiDocument()))
  t.same(committed, current)
})

t.test('the document is valid OpenAPI 3.1 and every operation is documented with examples', async (t) => {
  const doc = JSON.parse(JSON.stringify(await buildOpenapiDocument()))
  await SwaggerParser.validate(structuredClone(doc))
  t.equal(doc.openapi, '3.1.0')
  const dereferenced = (await SwaggerParser.dereference(structuredClone(doc))) as unknown as { paths: Record<string, Record<string, Operation>> }
  // /docs groups operations by tag; an undeclared tag shows without a description.
  const declaredTags = new Set((doc.tags as { name: string }[]).map((tag) => tag.name))
  let operations = 0
  for (const [route, item] of Object.entries(dereferenced.paths)) {
    for (const method of METHODS) {
      const op = item[method]
      if (!op) continue
      operations++
      const name = `${method.toUpperCase()} ${route}`
      t.ok(op.summary, `${name} has a summary`)
      t.ok(op.description, `${name} has a description`)
      t.ok(op.tags?.length, `${name} has tags`)
      for (const tag of op.tags ?? []) t.ok(declaredTags.has(tag), `${name}: tag ${tag} is declared with a description`)
      t.ok(hasExample(op), `${name} has examples`)
    }
  }
  t.ok(operations >= 1, `${operations} operations checked`)
})

t.test('/openapi.json and /docs are served', async (t) => {
  const { app } = await buildTestApp(t)
  const json = await app.inject({ url: '/openapi.json' })
  t.equal(json.statusCode, 200)
  t.equal(json.json().openapi, '3.1.0')
  const docs = await app.inject({ url: '/docs/' })
  t.equal(docs.statusCode, 200)
  t.match(docs.body, /swagger-ui/i)
})
