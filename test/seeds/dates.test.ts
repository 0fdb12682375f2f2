import t from 'tap'
import { daysSinceSeedAnchor, shiftDemoDates, SEED_ANCHOR_DATE } from '../../src/demo/seed.js'

t.test('demo dates move forward with the calendar so the demo network keeps its health mix', async (t) => {
  t.equal(daysSinceSeedAnchor(new Date(`${SEED_ANCHOR_DATE}T15:00:00Z`)), 0)
  t.equal(daysSinceSeedAnchor(new Date('2027-11-23T00:00:00Z')), 365)
  t.equal(daysSinceSeedAnchor(new Date('2026-01-01T00:00:00Z')), 0, 'never shifts backwards')

  const row = {
    name: 'Shelter 2024-01-01 (demo)',
    funded_until: '2027-02-28',
    verification: { on: '2026-11-01', method: 'field_visit', by: 'x' },
    signed_on: '2024-02-29',
    expires_on: null,
    services: [{ category: 'health', name: '2026-11-01' }],
  }
  t.same(shiftDemoDates(row, 2), {
    name: 'Shelter 2024-01-01 (demo)',
    funded_until: '2027-03-02',
    verification: { on: '2026-11-03', method: 'field_visit', by: 'x' },
    signed_on: '2024-03-02',
    expires_on: null,
    services: [{ category: 'health', name: '2026-11-01' }],
  })
  t.equal(shiftDemoDates(row, 0), row, 'no copy when there is nothing to shift')
})
