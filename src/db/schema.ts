// drizzle table definitions mirroring migrations/*.sql (the SQL files are the source of truth).
import { bigserial, boolean, customType, date, geometry, integer, jsonb, pgTable, smallint, text, timestamp, uuid, char } from 'drizzle-orm/pg-core'

/** A PostGIS column read and written through SQL functions only (ST_AsGeoJSON, ST_GeomFromGeoJSON). */
const opaqueGeometry = customType<{ data: string; driverData: string }>({
  dataType: () => 'geometry',
})

export const areas = pgTable('areas', {
  pcode: text('pcode').primaryKey(),
  name_en: text('name_en').notNull(),
  name_local: text('name_local'),
  country: char('country', { length: 3 }).notNull(),
  admin_level: smallint('admin_level').notNull(),
  level_name: text('level_name').notNull(),
  parent_pcode: text('parent_pcode'),
  source: text('source'),
  source_id: text('source_id'),
  geom: opaqueGeometry('geom').notNull(),
  rep_point: opaqueGeometry('rep_point'),
  search_text: text('search_text'),
  created_at: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updated_at: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
})

export type ServiceEntry = { category: string; name: string; description?: string | null }
export type ExternalId = { scheme: string; id: string }

export const providers = pgTable('providers', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  names: jsonb('names').$type<Record<string, string>>().notNull(),
  search_text: text('search_text').notNull(),
  kind: text('kind').notNull(),
  categories: text('categories').array().notNull(),
  services: jsonb('services').$type<ServiceEntry[]>().notNull(),
  location: geometry('location', { type: 'point', mode: 'xy', srid: 4326 }).notNull(),
  area_pcodes: text('area_pcodes').array().notNull(),
  address: text('address'),
  phones: text('phones').array().notNull(),
  email: text('email'),
  website: text('website'),
  languages: text('languages').array().notNull(),
  eligible_genders: text('eligible_genders').array().notNull(),
  min_age: smallint('min_age'),
  max_age: smallint('max_age'),
  requires: text('requires').array().notNull(),
  cost: text('cost'),
  capacity: integer('capacity'),
  opening_hours: text('opening_hours'),
  status: text('status').notNull(),
  funded_until: date('funded_until', { mode: 'string' }),
  verified_on: date('verified_on', { mode: 'string' }),
  verification_method: text('verification_method'),
  verified_by: text('verified_by'),
  external_ids: jsonb('external_ids').$type<ExternalId[]>().notNull(),
  notes: text('notes'),
  created_at: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  updated_at: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  version: integer('version').notNull(),
})

// Issue 3 (migrations/0001_referrals_mous.sql). Health, effective MOU status and pathways are computed in SQL
// (src/modules/referral-links/health.ts, src/modules/mous/sql.ts), never stored.
export const referral_links = pgTable('referral_links', {
  id: uuid('id').primaryKey().defaultRandom(),
  from_provider_id: uuid('from_provider_id').notNull(),
  to_provider_id: uuid('to_provider_id').notNull(),
  categories: text('categories').array().notNull(),
  basis: text('basis').notNull(),
  status: text('status').notNull(),
  established_on: date('established_on', { mode: 'string' }),
  last_used_on: date('last_used_on', { mode: 'string' }),
  notes: text('notes'),
  created_at: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  updated_at: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  version: integer('version').notNull(),
})

export const mous = pgTable('mous', {
  id: uuid('id').primaryKey().defaultRandom(),
  provider_id: uuid('provider_id').notNull(),
  counterparty: text('counterparty').notNull(),
  funding_project: text('funding_project'),
  counterparty_level: text('counterparty_level').notNull(),
  counterparty_area: text('counterparty_area'),
  categories: text('categories').array().notNull(),
  /** As last set; read the effective status through mou_effective_status (a passed expires_on means expired). */
  status: text('status').notNull(),
  signed_on: date('signed_on', { mode: 'string' }),
  expires_on: date('expires_on', { mode: 'string' }),
  renews_mou_id: uuid('renews_mou_id'),
  document_ref: text('document_ref'),
  notes: text('notes'),
  created_at: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  updated_at: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  version: integer('version').notNull(),
})

export const mou_status_changes = pgTable('mou_status_changes', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  mou_id: uuid('mou_id').notNull(),
  status: text('status').notNull(),
  status_changed: boolean('status_changed').notNull(),
  changes: jsonb('changes').$type<Record<string, { from: unknown; to: unknown }>>().notNull(),
  changed_at: timestamp('changed_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  changed_by: text('changed_by'),
  note: text('note'),
})
