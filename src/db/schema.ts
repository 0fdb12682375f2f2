// drizzle table definitions mirroring migrations/*.sql (the SQL files are the source of truth).
import { customType, date, geometry, integer, jsonb, pgTable, smallint, text, timestamp, uuid, char } from 'drizzle-orm/pg-core'

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
