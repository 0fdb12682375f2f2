// A cursor stream that asks PostgreSQL for the next batch before it hands the current one on. pg-query-stream
// sends the next FETCH only once the rows of the last one have gone down the pipeline, which in flowing mode is
// synchronous: the database and Node took turns, and a CSV export cost the sum of their times rather than the
// larger one (bench/README.md, bench:export).
import QueryStream from 'pg-query-stream'

type Rows = unknown[]

export class PrefetchingQueryStream extends QueryStream {
  /** A FETCH is in flight. */
  private fetching = false
  private size = 0

  override _read(size: number): void {
    this.size = size
    if (!this.fetching) this.fetch()
  }

  private fetch(): void {
    this.fetching = true
    this.cursor.read(this.size, (err: Error | undefined, rows: Rows) => {
      this.fetching = false
      if (err) return void this.destroy(err)
      const last = rows.length < this.size
      // Backpressure: the next batch is asked for ahead only while nothing waits in the buffer (the consumer keeps
      // up); otherwise _read asks once the buffer drains. At most the buffer, this batch and the next are held.
      if (!last && !this.destroyed && this.readableLength === 0) this.fetch()
      for (const row of rows) this.push(row)
      if (last) this.push(null)
    })
  }
}
