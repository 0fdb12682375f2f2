// The fixed parts of the OpenAPI document; paths and schemas come from the routes' zod schemas.
import pkg from '../package.json' with { type: 'json' }

export const openapiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'setu',
    version: pkg.version,
    description:
      'District service directories for survivors of human trafficking in Bangladesh and Cambodia: ' +
      'administrative areas, providers of health, legal, counselling, shelter and livelihood services, ' +
      'nearest-service search, referral links and MOUs. Errors are RFC 9457 problem documents ' +
      '(application/problem+json). Lists answer {"items": [...], "next_cursor": ...}; pass next_cursor back as ' +
      'cursor to read the next page.',
    license: { name: 'AGPL-3.0-or-later', identifier: 'AGPL-3.0-or-later' },
  },
  // Relative, so that /docs "Try it out" calls the host and port the document was served from.
  servers: [{ url: '/', description: 'The server this document was served from' }],
  components: {
    securitySchemes: {
      bearer: {
        type: 'http' as const,
        scheme: 'bearer',
        description:
          'An API key (Authorization: Bearer setu_…), created by an admin with `npm run keys -- create` or POST /v1/keys. ' +
          'Without one a caller reads areas and the directory, with confidential locations masked; each operation ' +
          'names the roles it needs.',
      },
    },
  },
  tags: [
    { name: 'areas', description: 'Administrative areas: BD division → district → upazila → union; KH province → district → commune' },
    { name: 'providers', description: 'The directory of service providers and community focal points' },
    { name: 'referral-links', description: 'Directed referral links between providers, their basis and their health (computed on read)' },
    { name: 'mous', description: 'Memoranda of understanding that put providers in the referral system, with their status history' },
    { name: 'pathways', description: 'Shortest chains of healthy referral links to a service' },
    { name: 'analytics', description: 'Coverage by area, summary statistics and directory exports for analysts' },
    { name: 'tiles', description: 'Mapbox vector tiles of areas and providers, with TileJSON, for MapLibre and QGIS' },
    { name: 'system', description: 'Health and API description' },
    { name: 'access', description: 'Organisations, API keys and the audit trail (admins)' },
  ],
}
