// What each feature costs the size entries, in gzip bytes: each entry of budgets.json is built from the TypeScript
// sources (mangled like core's dist), once as it is and once per row of FEATURES with that feature's code stubbed
// out; a row's bytes are the difference. Nothing here touches shipped code: the stubs are applied to the source text
// while esbuild loads it. `pnpm --filter @tiercache/size attribute` (add `-- --markdown` for the table of README.md,
// `-- --left` for the modules of what is left, `-- --check` to only check, without building, that every stub still
// matches the sources).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { appBuild, SOURCE_IMPORT, sourceOf } from './measure.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const monorepo = fileURLToPath(new URL('../../..', import.meta.url))
const ts = createRequire(join(monorepo, 'package.json'))('typescript')

/**
 * A stub, applied to one file (path under packages/):
 * - `Name`: a top-level function's body becomes `{}`, a class loses its members, a variable's initializer becomes
 *   `void 0`. `*` does that to every top-level declaration (the module as an opt-in value would leave it).
 * - `Class.member`: that method's (or accessor's) body becomes `{}`, a property loses its initializer; the name stays,
 *   so callers still parse (`#private` ones too).
 * - `{ find, replace }`: a text edit (a string, replaced once) for a branch inside a function.
 * Every selector must match, or the script fails: a row that silently stubs nothing would read as a free feature.
 * @typedef {{ [file: string]: (string | { find: string, replace: string })[] }} Stubs
 * @typedef {{ name: string, contract: string, how: string, stubs?: Stubs, messages?: boolean, events?: boolean }} Feature
 * @typedef {{ from: string, imports: string[], external?: string[], define?: Record<string, string> }} Entry
 */

/**
 * The rows. `contract` says whether /work/shared/DESIGN.md's public contract (or an existing call documented in the
 * package's README) makes the code reachable from createCache + memoryStore for any app: then no bundler can drop it
 * and only a contract change can. `how` says what is stubbed.
 * @type {Feature[]}
 */
export const FEATURES = [
  {
    name: 'validation messages (TypeError/RangeError text)',
    contract: 'yes: "Bad input ... throws a TypeError or RangeError at the call site naming the argument and the rule"',
    how: 'every `new TypeError(...)`/`new RangeError(...)` in core loses its argument (the checks stay)',
    messages: true,
  },
  {
    name: 'getManyOrSet batching',
    contract: 'yes: cache.getManyOrSet is a Cache method (one round trip per tier, one loader call)',
    how: 'engine/batch.ts, Engine.getManyOrSet, LoaderRunner.batch, ReadPath.fillMany, Tiers.readMany/writeMany, MemoryStore.getMany/setMany',
    stubs: {
      'core/src/engine/batch.ts': ['*'],
      'core/src/engine/engine.ts': ['Engine.getManyOrSet'],
      'core/src/engine/loader.ts': ['LoaderRunner.batch'],
      'core/src/engine/read-path.ts': ['ReadPath.fillMany'],
      'core/src/tiered.ts': ['Tiers.readMany', 'Tiers.writeMany'],
      'core/src/stores/memory.ts': ['MemoryStore.getMany', 'MemoryStore.setMany'],
    },
  },
  {
    name: 'coordinator locks and lock waiting',
    contract: 'yes: options.coordinator with locks (any user-written Coordinator with lock/acquire gets them)',
    how: 'engine/locks.ts; the lock branch of Loads.#run',
    stubs: {
      'core/src/engine/locks.ts': ['*'],
      'core/src/engine/loads.ts': [{ find: 'if (this.#locks.enabled) {', replace: 'if (0) {' }],
    },
  },
  {
    name: 'tags, hard + soft invalidation, expire',
    contract: 'yes: Policy.tags, cache.invalidateTags(tags, { mode }), cache.expire(key)',
    how: 'engine/tags.ts, engine/soft.ts, Engine.invalidateTags/expire, tag checks of ReadPath.take and afterL1, policy tags',
    stubs: {
      'core/src/engine/tags.ts': ['*'],
      'core/src/engine/soft.ts': ['*'],
      'core/src/engine/engine.ts': ['Engine.invalidateTags', 'Engine.expire'],
      'core/src/engine/read-path.ts': [{ find: 'if (entry !== undefined && state !== EntryState.Dead && entry.tags !== undefined) {', replace: 'if (0) {' }],
      'core/src/engine/shared-read.ts': [{ find: 'if (servable && tags !== undefined) {', replace: 'if (0) {' }],
      'core/src/policy.ts': ['validateTags', 'mergeTags'],
      'core/src/coordinator.ts': ['localCoordinator'],
    },
  },
  {
    name: 'XFetch earlyRefresh',
    contract: 'yes: Policy.earlyRefresh (a value the app passes at run time)',
    how: 'Loads.refreshEarly and its two call sites',
    stubs: {
      'core/src/engine/loads.ts': ['Loads.refreshEarly'],
      'core/src/engine/shared-read.ts': [
        { find: '(earlyRefresh > 0 && this.#loads.refreshEarly(earlyRefresh, entry.loadMs ?? NaN, entry.freshUntil, this.#now()))', replace: '0' },
        { find: 'p.earlyRefresh > 0 && this.#loads.refreshEarly(p.earlyRefresh, e.loadMs ?? NaN, freshUntil, now)', replace: '0' },
      ],
    },
  },
  {
    name: 'soft timeout (Policy.timeout) + hardTimeout',
    contract: 'yes: Policy.timeout; hardTimeout is a documented Policy field (README) and LoaderContext.signal',
    how: 'LoaderRunner.hardTimeout, the withDeadline of Loads.foreground',
    stubs: {
      'core/src/engine/loader.ts': ['LoaderRunner.hardTimeout'],
      'core/src/engine/loads.ts': [{ find: 'promise = withDeadline(promise, call.p.timeout, () => fallback)', replace: '' }],
    },
  },
  {
    name: 'Policy.schema checks (Standard Schema)',
    contract: 'yes: Policy.schema',
    how: 'schema.ts, ReadPath.#checked, the schema branch of LoaderRunner.#loaded',
    stubs: {
      'core/src/schema.ts': ['*'],
      'core/src/engine/read-path.ts': ['ReadPath.#checked'],
    },
  },
  {
    name: 'encryption/codec plumbing (re-encryption, codec plan)',
    contract: 'yes: createCache({ codec }) / encryption; the codecs themselves are opt-in imports (not in this entry)',
    how: 'ReadPath.reencrypt',
    stubs: { 'core/src/engine/read-path.ts': ['ReadPath.reencrypt'] },
  },
  {
    name: 'value serializability check',
    contract: 'yes: "a value that cannot be serialized" throws at the call site',
    how: 'assertSerializable',
    stubs: { 'core/src/validate.ts': ['assertSerializable'] },
  },
  {
    name: "memoryStore eviction: 'lfu' (W-TinyLFU)",
    contract: "yes: memoryStore({ eviction: 'lfu' }) (a value passed at run time)",
    how: 'stores/tiny-lfu.ts, stores/frequency-sketch.ts',
    stubs: { 'core/src/stores/tiny-lfu.ts': ['*'], 'core/src/stores/frequency-sketch.ts': ['*'] },
  },
  {
    name: "memoryStore eviction: 'fifo'",
    contract: "yes: memoryStore({ eviction: 'fifo' })",
    how: 'FifoOrder',
    stubs: { 'core/src/stores/eviction.ts': ['FifoOrder'] },
  },
  {
    name: 'memoryStore maxBytes size estimation',
    contract: 'yes: memoryStore({ maxBytes })',
    how: 'estimateSize',
    stubs: { 'core/src/stores/estimate-size.ts': ['estimateSize'] },
  },
  {
    name: 'events (onEvent, subscribe, every emit)',
    contract: 'yes: options.onEvent (hit/miss/stale/load/error/evict)',
    how: 'every `if (x.listening) ...emit(...)` and `x.emit(...)` statement in core, Instrumentation.emit/served/coordinatorFailed',
    events: true,
    stubs: { 'core/src/engine/instrumentation.ts': ['Instrumentation.emit', 'Instrumentation.served', 'Instrumentation.coordinatorFailed'] },
  },
  {
    name: 'stats() snapshot',
    contract: 'yes: cache.stats() (the counters themselves are bumped on the data path)',
    how: 'Counters.snapshot',
    stubs: { 'core/src/stats.ts': ['Counters.snapshot'] },
  },
  {
    name: 'read status (options.status)',
    contract: 'no DESIGN.md name (issue 10 provenance API, documented in core README); an existing call',
    how: 'engine/status.ts report/foundState, reportLoad, checkOptions',
    stubs: {
      'core/src/engine/status.ts': ['report', 'foundState'],
      'core/src/engine/shared-read.ts': ['reportLoad'],
      'core/src/engine/engine.ts': ['checkOptions'],
    },
  },
  {
    name: 'loader control: ctx.skip/fail, forceFresh',
    contract: 'no DESIGN.md name (issue 10, core README); an existing call',
    how: 'Loads.alone, Engine.#forceFresh',
    stubs: { 'core/src/engine/loads.ts': ['Loads.alone'], 'core/src/engine/engine.ts': ['Engine.#forceFresh'] },
  },
  {
    name: 'write() + write ordering',
    contract: 'write(): no DESIGN.md name (core README); write ordering keeps set/delete correct against loads in flight',
    how: 'Engine.write, engine/keyed-queue.ts, engine/write-order.ts',
    stubs: { 'core/src/engine/engine.ts': ['Engine.write'], 'core/src/engine/keyed-queue.ts': ['*'], 'core/src/engine/write-order.ts': ['*'] },
  },
  {
    name: 'withContext + request-lifetime flights',
    contract: 'yes: cache.withContext({ waitUntil }); flights keep joiners of a finished request from hanging (workerd rule)',
    how: 'TieredCache.withContext, flight.ts',
    stubs: { 'core/src/cache.ts': ['TieredCache.withContext'], 'core/src/flight.ts': ['*'] },
  },
  {
    name: 'cache.cacheControl helper',
    contract: 'yes: cache.cacheControl(policy?, opts?)',
    how: 'TieredCache.cacheControl',
    stubs: { 'core/src/cache.ts': ['TieredCache.cacheControl'] },
  },
  {
    name: 'refresh backoff + late tier reads',
    contract: 'no name: robustness of stale-if-error and of slow tiers (a failing tier never fails the caller)',
    how: 'Loads.backingOff/settled, ReadPath.lateEntry',
    stubs: { 'core/src/engine/loads.ts': ['Loads.backingOff', 'Loads.settled'], 'core/src/engine/read-path.ts': ['ReadPath.lateEntry'] },
  },
  {
    name: 'createCache option checks (beyond messages)',
    contract: 'yes: "Factories resolve options once, validate them, throw config errors immediately" (STYLE.md)',
    how: 'checkCoordinator, the CACHE_OPTIONS list',
    stubs: { 'core/src/cache.ts': ['checkCoordinator', 'CACHE_OPTIONS'] },
  },
  // The browser and edge entries' own features (0 in the core column).
  {
    name: "browser: the default cache's IndexedDB coordinator (cross-tab locks and tag stamps)",
    contract: 'yes: createCachedFetch({ cache? }) builds a default cache when none is given',
    how: 'browser/src/indexeddb-coordinator.ts',
    stubs: { 'browser/src/indexeddb-coordinator.ts': ['*'] },
  },
  {
    name: 'browser: IndexedDB eviction, access times and sweeps (maxEntries, maxTtl)',
    contract: 'yes: indexedDbStore({ maxEntries?, maxTtl? })',
    how: 'browser/src/indexeddb-eviction.ts, indexeddb-access-times.ts, indexeddb-sweep.ts',
    stubs: { 'browser/src/indexeddb-eviction.ts': ['*'], 'browser/src/indexeddb-access-times.ts': ['*'], 'browser/src/indexeddb-sweep.ts': ['*'] },
  },
  {
    name: 'browser: Range requests answered from the cache (206)',
    contract: 'no DESIGN.md name: what a fetch with a Range header gets today',
    how: 'browser/src/range.ts',
    stubs: { 'browser/src/range.ts': ['*'] },
  },
  {
    name: 'edge: Upstash tier and coordinator (with core/redis scripts)',
    contract: 'yes: DESIGN.md "Local defaults": the same code uses Upstash when UPSTASH_REDIS_REST_URL is set (the __TIERCACHE_UPSTASH__ build flag leaves it out)',
    how: 'edge/src/upstash-coordinator.ts, upstash-store.ts, upstash-locks.ts',
    stubs: { 'edge/src/upstash-coordinator.ts': ['*'], 'edge/src/upstash-store.ts': ['*'], 'edge/src/upstash-locks.ts': ['*'] },
  },
  {
    name: 'edge: Durable Object coordinator',
    contract: 'yes: durableObjectCoordinator, chosen by createEdgeCache from a binding at run time',
    how: 'edge/src/durable-object-coordinator.ts',
    stubs: { 'edge/src/durable-object-coordinator.ts': ['*'] },
  },
  {
    name: 'edge: Workers KV tier',
    contract: 'yes: kvStore, chosen by createEdgeCache from a binding at run time',
    how: 'edge/src/kv-store.ts',
    stubs: { 'edge/src/kv-store.ts': ['*'] },
  },
  {
    name: 'edge: Range requests and conditional (304) answers',
    contract: 'no DESIGN.md name: what withCache answers a Range or If-None-Match request today',
    how: 'edge/src/range.ts, edge/src/conditional.ts',
    stubs: { 'edge/src/range.ts': ['*'], 'edge/src/conditional.ts': ['*'] },
  },
]

/**
 * Applies a row's stubs (and, with `messages`/`events`, its statement rules) to one source file; records in `used`
 * the selectors that matched.
 * @param {string} file path under packages/
 * @param {string} text
 * @param {Feature} row
 * @param {Set<string>} used
 * @returns {string}
 */
function stub(file, text, row, used) {
  const stubs = row.stubs?.[file] ?? []
  /** @type {[number, number, string][]} */
  const edits = []
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  /** @param {any} node a function-like TypeScript node */
  const emptyBody = (node) => node.body && edits.push([node.body.getStart(source), node.body.end, '{}'])
  /** @param {any} node a top-level statement */
  const stubDeclaration = (node) => {
    if (ts.isFunctionDeclaration(node)) emptyBody(node)
    else if (ts.isClassDeclaration(node) && node.members.length > 0) edits.push([node.members[0].getStart(source), node.members.end, ''])
    else if (ts.isVariableStatement(node)) for (const d of node.declarationList.declarations) if (d.initializer) edits.push([d.initializer.getStart(source), d.initializer.end, 'void 0'])
  }
  /** @param {any} node @returns {string | undefined} */
  const nameOf = (node) => (node.name && (ts.isIdentifier(node.name) || ts.isPrivateIdentifier(node.name)) ? node.name.text : undefined)
  const top = new Map()
  for (const node of source.statements) {
    const names = ts.isVariableStatement(node) ? node.declarationList.declarations.map(nameOf) : [nameOf(node)]
    for (const name of names) if (name !== undefined) top.set(name, node)
  }
  for (const selector of stubs) {
    if (typeof selector === 'object') continue
    if (selector === '*') {
      for (const node of new Set(top.values())) stubDeclaration(node)
      used.add(`${file}:*`)
      continue
    }
    const [outer, member] = selector.split('.')
    const node = top.get(outer)
    if (node === undefined) continue
    if (member === undefined) {
      stubDeclaration(node)
      used.add(`${file}:${selector}`)
      continue
    }
    for (const m of node.members ?? []) {
      if (nameOf(m) !== member && !(member === 'constructor' && ts.isConstructorDeclaration(m))) continue
      if (ts.isPropertyDeclaration(m)) {
        if (m.initializer) edits.push([m.initializer.getStart(source), m.initializer.end, 'void 0'])
      } else emptyBody(m)
      used.add(`${file}:${selector}`)
    }
  }
  if ((row.messages || row.events) && file.startsWith('core/src/')) {
    /** @param {any} node */
    const visit = (node) => {
      if (row.messages && ts.isNewExpression(node) && ts.isIdentifier(node.expression) && /^(Type|Range)Error$/.test(node.expression.text) && node.arguments?.length) {
        edits.push([node.arguments.pos, node.arguments.end, ''])
        return
      }
      if (row.events) {
        const t = node.getText?.(source)
        if (ts.isIfStatement(node) && !node.elseStatement && /\.listening\)?$/.test(node.expression.getText(source)) && !/^!/.test(node.expression.getText(source))) {
          edits.push([node.getStart(source), node.end, ''])
          return
        }
        if (ts.isExpressionStatement(node) && /^[\w.#]*(inst|this\.#inst|this)\.emit\(/.test(t)) {
          edits.push([node.getStart(source), node.end, ''])
          return
        }
      }
      ts.forEachChild(node, visit)
    }
    visit(source)
  }
  // An edit inside another (a statement of a stubbed class) gives way to the outer one.
  edits.sort((a, b) => a[0] - b[0] || b[1] - a[1])
  /** @type {[number, number, string][]} */
  const kept = []
  for (const edit of edits) if (kept.length === 0 || edit[0] >= /** @type {[number, number, string]} */ (kept[kept.length - 1])[1]) kept.push(edit)
  let out = text
  for (const [start, end, replacement] of kept.reverse()) out = out.slice(0, start) + replacement + out.slice(end)
  for (const selector of stubs) {
    if (typeof selector !== 'object') continue
    if (!out.includes(selector.find)) continue
    out = out.replace(selector.find, selector.replace)
    used.add(`${file}:${selector.find}`)
  }
  return out
}

const internal = JSON.parse(readFileSync(join(monorepo, 'packages/core/internal-props.json'), 'utf8'))
const mangleProps = new RegExp(`^(${Object.values(internal).filter(Array.isArray).flat().join('|')})$`)

/**
 * The gzip and min bytes of `entry` built from the sources, with `row`'s stubs applied (none: undefined).
 * @param {Entry} entry
 * @param {Feature} [row]
 * @returns {Promise<{ gzip: number, min: number, used: Set<string>, inputs: [string, number][] }>}
 */
export async function buildVariant(entry, row) {
  const used = new Set()
  const result = await build({
    stdin: { contents: `export { ${entry.imports.join(', ')} } from ${JSON.stringify(entry.from)}`, resolveDir: root, loader: 'js' },
    ...appBuild(entry),
    minify: true,
    mangleProps,
    metafile: true,
    absWorkingDir: root,
    plugins: [
      {
        name: 'sources-with-stubs',
        setup(b) {
          b.onResolve({ filter: SOURCE_IMPORT }, (args) => sourceOf(monorepo, args.path))
          b.onLoad({ filter: /packages\/[^/]+\/src\/.*\.ts$/ }, (args) => {
            const text = readFileSync(args.path, 'utf8')
            const file = args.path.slice(join(monorepo, 'packages').length + 1)
            const own = row !== undefined && (((row.messages || row.events) && file.startsWith('core/src/')) || row.stubs?.[file] !== undefined)
            return { contents: own ? stub(file, text, row, used) : text, loader: 'ts' }
          })
        },
      },
    ],
  })
  const bytes = /** @type {import('esbuild').OutputFile} */ (result.outputFiles[0]).contents
  /** @type {[string, number][]} */
  const inputs = Object.entries(Object.values(result.metafile.outputs)[0]?.inputs ?? {}).map(([name, info]) => [name.replace(/^(\.\.\/)+packages\//, ''), info.bytesInOutput])
  return { gzip: gzipSync(bytes, { level: 9 }).byteLength, min: bytes.byteLength, used, inputs }
}

/**
 * Selectors of `row` that matched nothing (a renamed function, an edited line).
 * @param {Feature} row
 * @param {Set<string>} used
 */
export function unmatched(row, used) {
  const missing = []
  for (const [file, selectors] of Object.entries(row.stubs ?? {})) {
    for (const selector of selectors) {
      const id = `${file}:${typeof selector === 'object' ? selector.find : selector}`
      if (!used.has(id)) missing.push(id)
    }
  }
  return missing
}

/**
 * Every row of `features` together: what is left when all of them are stubbed.
 * @param {Feature[]} features
 * @returns {Feature}
 */
const allOf = (features) => ({
  name: 'all rows above at once',
  contract: '',
  how: 'every row',
  messages: features.some((row) => row.messages),
  events: features.some((row) => row.events),
  stubs: features.reduce((/** @type {Stubs} */ all, row) => {
    for (const [file, selectors] of Object.entries(row.stubs ?? {})) all[file] = [...(all[file] ?? []), ...selectors]
    return all
  }, {}),
})

/**
 * Every row of `features` (and all of them at once) measured on each of `entries` (budgets.json's shape); each row's
 * stubs must match in one of the entries.
 * `saved`/`min`: gzip/min bytes the entry loses without the row's code; `left`: the entry's gzip bytes then.
 * `left` (the result's): the modules of the first entry with every row stubbed, min bytes each, largest first.
 * @param {Entry[]} entries
 * @param {Feature[]} [features] FEATURES by default
 * @returns {Promise<{ bases: { gzip: number, min: number }[], rows: { row: Feature, saved: number[], min: number[], left: number[] }[], all: { saved: number[], left: number[] }, left: [string, number][] }>}
 */
export async function attribute(entries, features = FEATURES) {
  const ALL = allOf(features)
  const bases = await Promise.all(entries.map((entry) => buildVariant(entry)))
  /** @type {{ row: Feature, saved: number[], min: number[], left: number[] }[]} */
  const rows = []
  /** @type {[string, number][]} */
  let left = []
  for (const row of [...features, ALL]) {
    const variants = await Promise.all(entries.map((entry) => buildVariant(entry, row)))
    // A stub matches in the entries that bundle its file (a browser file is no part of the core entry).
    const missing = unmatched(row, new Set(variants.flatMap((v) => [...v.used])))
    if (missing.length > 0 && row !== ALL) throw new Error(`${row.name}: no match for ${missing.join(', ')} (update FEATURES in tools/size/src/attribute.mjs)`)
    if (row === ALL) left = variants[0].inputs.sort((a, b) => b[1] - a[1])
    rows.push({ row, saved: variants.map((v, i) => bases[i].gzip - v.gzip), min: variants.map((v, i) => bases[i].min - v.min), left: variants.map((v) => v.gzip) })
  }
  const all = /** @type {{ saved: number[], left: number[] }} */ (rows.pop())
  return { bases, rows, all, left }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = new Set(process.argv.slice(2).filter((arg) => arg !== '--'))
  if (args.has('--check')) {
    // Without building: every selector of every row still matches the sources.
    let broken = false
    for (const row of FEATURES) {
      const used = new Set()
      for (const file of Object.keys(row.stubs ?? {})) stub(file, readFileSync(join(monorepo, 'packages', file), 'utf8'), row, used)
      const missing = unmatched(row, used)
      if (missing.length > 0) {
        broken = true
        console.error(`${row.name}: no match for ${missing.join(', ')} (update FEATURES in src/attribute.mjs)`)
      }
    }
    process.exit(broken ? 1 : 0)
  }
  const config = JSON.parse(readFileSync(join(root, 'budgets.json'), 'utf8'))
  /** @type {(Entry & { name: string })[]} */
  const entries = config.entries.filter((/** @type {Entry} */ entry) => entry.define === undefined)
  const head = entries.map((entry) => entry.name.split(':')[0])
  const { bases, rows, all, left } = await attribute(entries)
  if (args.has('--left')) {
    console.log(`left in ${head[0]} with every row stubbed, min bytes per module:`)
    for (const [name, bytes] of left) if (bytes > 0) console.log(`${String(bytes).padStart(7)}  ${name}`)
  }
  if (args.has('--markdown')) {
    console.log(`| feature | ${head.map((h) => `${h} B gzip`).join(' | ')} | reachable from createCache by the contract? | stubbed |`)
    console.log(`|---|${head.map(() => '--:').join('|')}|---|---|`)
    for (const { row, saved } of rows) console.log(`| ${row.name} | ${saved.join(' | ')} | ${row.contract} | ${row.how} |`)
    console.log(`| **all rows at once** | ${all.saved.join(' | ')} | | what is left: ${all.left.map((b, i) => `${head[i]} ${b} B`).join(', ')} |`)
    console.log(`| *(whole entry, from the sources)* | ${bases.map((b) => b.gzip).join(' | ')} | | |`)
  } else {
    console.log(`gzip bytes each feature costs (the entry built from the sources without it; min bytes in brackets). Whole entries: ${bases.map((b, i) => `${head[i]} ${b.gzip} B`).join(', ')}`)
    for (const { row, saved, min } of rows) {
      console.log(`${saved.map((s, i) => `${String(s).padStart(6)} (${String(min[i]).padStart(5)})`).join(' ')}  ${row.name}  [reachable: ${row.contract.split(':')[0]}]`)
    }
    console.log(`${all.saved.map((s) => String(s).padStart(6)).join('        ')}          all rows at once`)
    console.log(`columns: ${head.join(', ')}; left with every row stubbed: ${all.left.join(', ')} B gzip`)
  }
}
