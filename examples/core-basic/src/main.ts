import { headers } from './headers.js'
import { quickStart } from './quick-start.js'
import { resilience } from './resilience.js'
import { tagsAndBatches } from './tags-and-batches.js'

const quick = await quickStart()
console.log('quick start:', { loads: quick.loads, hitRate: quick.stats.hitRate })
const r = await resilience()
console.log('resilience:', { stale: r.stale?.name, duringOutage: r.duringOutage?.name, missing: r.missing, loads: r.loads })
const t = await tagsAndBatches()
console.log('tags and batches:', { prices: t.products.map((p) => p?.price), fresh: t.fresh?.price, batchCalls: t.batchCalls })
console.log('headers:', headers)
