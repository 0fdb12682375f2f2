// npm run db:stop: stop the private cluster under .data/ (a no-op when it is not running).
import { PROJECT_ROOT } from '../src/db/database.js'
import { stopLocalCluster } from '../src/db/local-cluster.js'

stopLocalCluster(PROJECT_ROOT, (m) => console.log(`[setu] ${m}`))
