import t from 'tap'
import { daysSinceSeedAnchor, shiftDemoDates, SEED_ANCHOR_DATE } from '../../src/demo/seed.js'

t.test('demo dates move with the database\'s today so the demo network keeps its health mix', async (t) => {
  t.equal(daysSinceSeedAnchor(SEED_ANCHOR_DATE), 0)
  t.equal(daysSinceSeedAnchor('2027-11-23'), 365)
  t.equal(daysSinceSeedAnchor('2028-11-23'), 731, 'across a leap day')
  // A database whose today is before the anchor gets the same mix too, so the shift goes both ways.
  t.equal(daysSinceSeedAnchor('2026-11-01'), -22)

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
  t.same(shiftDemoDates(row, -2).funded_until, '2027-02-26')
  t.same(shiftDemoDates(row, -2).signed_on, '2024-02-27')
  t.equal(shiftDemoDates(row, 0), row, 'no copy when there is nothing to shift')
})
