import { z } from 'zod'
import { Category, Pcode } from '../../lib/vocabulary.js'
import { ProviderMouStatus } from '../mous/schemas.js'
import { LinkEnd, linkEndExample, ReferralLink } from '../referral-links/schemas.js'

export const NetworkParams = z.strictObject({ pcode: Pcode.meta({ example: 'BD4041' }) })

export const NetworkNode = LinkEnd.extend({
  inside: z.boolean().meta({ description: 'True for providers inside the area, false for those only linked to them' }),
  mou_status: z.record(z.string(), ProviderMouStatus).meta({ description: 'MOU status per category the provider offers' }),
}).meta({ id: 'NetworkNode' })

const ProviderName = z.object({ id: z.uuid(), name: z.string() })

export const AreaNetwork = z
  .object({
    area: z.object({ pcode: z.string(), name_en: z.string() }),
    nodes: z.array(NetworkNode),
    edges: z.array(ReferralLink).meta({ description: 'Links with at least one end inside the area, with their health' }),
    summary: z.object({
      categories_without_provider: z.array(Category).meta({ description: 'Categories no active provider inside offers' }),
      providers_without_healthy_incoming_link: z.array(ProviderName).meta({
        description: 'Active providers inside (focal points excepted: survivors enter there) with no active, non-broken incoming link',
      }),
      focal_points_without_outgoing_link: z.array(ProviderName).meta({
        description: 'Active focal points inside with no active outgoing link',
      }),
      categories_without_mou_backed_provider: z.array(Category).meta({
        description: 'Categories for which no active provider inside has a current signed MOU',
      }),
    }),
  })
  .meta({
    id: 'AreaNetwork',
    example: {
      area: { pcode: 'BD4041', name_en: 'Jessore' },
      nodes: [
        {
          ...linkEndExample,
          inside: true,
          mou_status: { counselling: 'none' },
        },
      ],
      edges: [],
      summary: {
        categories_without_provider: ['shelter', 'livelihood'],
        providers_without_healthy_incoming_link: [],
        focal_points_without_outgoing_link: [{ id: '5b0c6c1e-4f1a-4c53-9a51-0d3c1f0e7a01', name: 'CTC Jhikargacha' }],
        categories_without_mou_backed_provider: ['health', 'legal', 'counselling', 'shelter', 'livelihood'],
      },
    },
  })
export type AreaNetwork = z.infer<typeof AreaNetwork>
