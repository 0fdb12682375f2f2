// The synthetic areas the benchmarks put under their synthetic providers: 1° "divisions" (level 1) over
// Bangladesh's bounding box, cut into 0.1° "unions" (level 4), so that an approximate provider is shown at its
// union's representative point and area columns are filled, as with real boundaries loaded.
import { sql, type SQL } from 'drizzle-orm'
import type { Db } from '../src/db/client.js'

export async function insertAreaGrid(db: Db): Promise<void> {
  await db.execute(sql`
    INSERT INTO areas (pcode, name_en, country, admin_level, level_name, geom)
    SELECT 'D' || x || '_' || y, 'Division ' || x || ' ' || y, 'BGD', 1, 'Division', ST_Multi(ST_MakeEnvelope(x, y, x + 1, y + 1, 4326))
    FROM generate_series(87, 92) x, generate_series(20, 26) y`)
  await db.execute(sql`
    INSERT INTO areas (pcode, name_en, country, admin_level, level_name, parent_pcode, geom)
    SELECT 'U' || x || '_' || y, 'Union ' || x || ' ' || y, 'BGD', 4, 'Union', 'D' || x / 10 || '_' || y / 10,
           ST_Multi(ST_MakeEnvelope(x / 10.0, y / 10.0, (x + 1) / 10.0, (y + 1) / 10.0, 4326))
    FROM generate_series(870, 929) x, generate_series(200, 269) y`)
}

/** The area_pcodes (text[]) of a point given by SQL expressions: its division and union of the grid. */
export const gridAreaPcodes = (lon: SQL, lat: SQL) =>
  sql`ARRAY['D' || floor(${lon})::int || '_' || floor(${lat})::int, 'U' || floor(${lon} * 10)::int || '_' || floor(${lat} * 10)::int]`
