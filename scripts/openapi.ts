// npm run openapi: write the OpenAPI document the app serves to openapi/openapi.json.
// Needs no database: the document comes from the routes' schemas alone.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { PROJECT_ROOT } from '../src/db/database.js'
import { buildOpenapiDocument } from '../src/openapi-document.js'

const file = path.join(PROJECT_ROOT, 'openapi', 'openapi.json')
writeFileSync(file, `${JSON.stringify(await buildOpenapiDocument(), null, 2)}\n`)
console.log(`wrote ${path.relative(PROJECT_ROOT, file)}`)
