import { writeFileSync } from 'node:fs'
import { PgDialect } from 'drizzle-orm/pg-core'
import { csvCellsSql } from '../src/modules/export/csv-sql.js'
import { exportSql } from '../src/modules/export/service.js'
const d = new PgDialect()
const inline = (q: { sql: string; params: unknown[] }) => q.sql.replace(/\$(\d+)/g, (_, i) => `'${String(q.params[Number(i) - 1])}'`)
writeFileSync('/tmp/exp/csv.sql', inline(d.sqlToQuery(csvCellsSql([], { exact: 'all' }))))
writeFileSync('/tmp/exp/old.sql', inline(d.sqlToQuery(exportSql([], { exact: 'all' }))))
