// Scenario registry, in report order. To add one, write `scenarios/<name>.mjs` exporting a
// default `{ name, run({ quick, log }) }` that returns a table (see ./types.mjs) and list it here.
import hotHit from './hot-hit.mjs'
import coldMiss from './cold-miss.mjs'
import stampede from './stampede.mjs'
import stale from './stale.mjs'
import memory from './memory.mjs'
import edge from './edge.mjs'
import edgeLoad from './edge-load.mjs'
import redis from './redis.mjs'
import browser from './browser.mjs'
import queryPersist from './query-persist.mjs'
import bundle from './bundle.mjs'
import hitRatio from './hit-ratio.mjs'
import strategies from './strategies.mjs'
import codec from './codec.mjs'

/** @type {import('./types.mjs').Scenario[]} */
export const scenarios = [hotHit, coldMiss, stampede, stale, memory, hitRatio, strategies, codec, edge, edgeLoad, redis, browser, queryPersist, bundle]
