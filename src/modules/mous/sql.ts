// The MOU status SQL moved to repo.ts with the rest of the module's SQL; providers/ and test/mous still import it from here.
export {
  MOU_STATUSES,
  PROVIDER_MOU_STATUSES,
  mouEffectiveStatus,
  mouStatusByCategory,
  mouStatusFilter,
  mouStatusForCategory,
  type MouStatus,
  type ProviderMouStatus,
} from './repo.js'
