import type { Db } from './client.js'

// Placeholder until the demo data set lands.
export async function loadDemoData(_db: Db): Promise<{ areas: number; providers: number }> {
  return { areas: 0, providers: 0 }
}
