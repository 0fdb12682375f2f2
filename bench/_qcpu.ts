import { readFileSync } from 'node:fs'
import pg from 'pg'
const url = 'postgresql://setu@localhost/export_exp_db?host=%2Fwork%2Fwt-export%2F.data%2Fpostgres%2Frun'
const cpu = (pid: number) => { const s = readFileSync(`/proc/${pid}/stat`, 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) / 100 }
const c = new pg.Client({ connectionString: url }); await c.connect()
await c.query('SET jit = off')
const pid = (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p
for (const file of process.argv.slice(2)) {
  const q = readFileSync(file, 'utf8')
  const out: string[] = []
  for (let i = 0; i < 3; i++) { const b = cpu(pid); await c.query(`SELECT count(*), sum(length(x::text)) FROM (${q}) x`); out.push((cpu(pid) - b).toFixed(2)) }
  console.log(file, out.join(' '))
}
await c.end()
