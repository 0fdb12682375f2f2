// Imports of other directories' data into setu: POST /v1/providers/import?format=hsds (Open Referral HSDS 3.0).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Db } from '../../db/client.js'
import { problemResponses } from '../../lib/problem.js'
import { actorOf } from '../access/actor.js'
import { hsdsImporter, recordsOf } from '../hsds/import.js'
import { HsdsImportBody, HsdsImportQuery, ImportReport, MAX_IMPORT } from '../hsds/import-schemas.js'

export const importRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, { db }) => {
  const importer = hsdsImporter(db)

  app.post(
    '/import',
    {
      config: { access: 'writer' },
      schema: {
        tags: ['providers'],
        summary: 'Import an Open Referral HSDS 3.0 dataset',
        description:
          `Upserts up to ${MAX_IMPORT} HSDS 3.0 services (a list, or an HSDS page {contents: […]}), each with its ` +
          'organization and locations nested as in the specification’s examples, as one provider per service. A ' +
          'service matches the provider whose external id is hsds:<service id> (or, for a record exported by setu, ' +
          'whose id is the service id): changed fields update it, otherwise it is unchanged; without a match a ' +
          'provider is created with that external id. Records are independent: each one is imported whole or, when ' +
          'invalid or not writable by this key, rejected with its index, id and errors {path into the HSDS record, ' +
          'message}, changing nothing. Mapping: name, description (of its services), status (active → active, ' +
          'inactive and temporarily closed → suspended, defunct → closed), minimum_age/maximum_age, languages[].code, ' +
          'phones (service, service_at_locations, location, organization), email and url (else the organization’s), ' +
          'location: the first service_at_locations[].location with latitude and longitude (physical first), else ' +
          'the first organization.locations entry, and its first address. A record without coordinates, or with any ' +
          'location outside WGS 84 (latitude beyond ±90, longitude beyond ±180), is rejected. Categories come from ' +
          'attributes[].taxonomy_term code or name: a setu category (health, legal, counselling, shelter, ' +
          'livelihood, optionally prefixed setu:) or a synonym (health care, medical, clinic, hospital; legal aid, ' +
          'law, justice; counseling, psychosocial, mental health; safe house, emergency shelter, housing; ' +
          'livelihoods, employment, income generation, vocational training, skills training, economic empowerment); ' +
          'else the category parameter; else a matched provider keeps its categories; else the record is rejected. ' +
          'Kind: a taxonomy_term code kind:<kind>, else the kind parameter (new providers, default ngo). Cost: ' +
          'fees_description only when it is exactly free, subsidised or paid (case aside): HSDS fees are free text, ' +
          'and any other text states no cost. Opening hours: the description of the service’s schedules (several ' +
          'joined with "; "), else of its service_at_locations’ schedules; schedules without a description (RRULE ' +
          'fields alone) state none. What a record does not state (cost, opening hours, capacity, funding, ' +
          'verification, notes, …) a matched provider keeps. A record exported by setu also carries setu’s own ' +
          'fields as attributes of setu’s taxonomy terms (categories, kind, names, services, eligible genders, ' +
          'documents required, location visibility, cost, capacity, funded_until, verified_on, ' +
          'verification_method, verified_by), read back so that an exported directory imports as the same ' +
          'directory; such a record states them all, so a term it lacks clears that field. A value setu cannot ' +
          'store (capacity not a whole number, a date not YYYY-MM-DD, a cost or method outside setu’s values, a ' +
          'verified_on without verification_method or the reverse) rejects the record with the path of its ' +
          'attribute, e.g. attributes.7.value. New ' +
          'providers belong to the caller’s organisation (an admin may name another in organisation_id); an editor ' +
          'imports only into its own organisation’s providers and, with a key limited to areas, only inside them ' +
          '(other records are rejected). Every write is audited under the caller’s key.',
        querystring: HsdsImportQuery,
        body: HsdsImportBody,
        response: { 200: ImportReport, ...problemResponses(400, 403, 413, 422) },
      },
    },
    async (request) => importer.importHsds(recordsOf(request.body), request.query, actorOf(request)),
  )
}
