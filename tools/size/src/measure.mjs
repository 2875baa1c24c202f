import { existsSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build, transform } from 'esbuild'

/** gzip level 9 bytes, as a server sends a file. */
const gzipSize = (/** @type {Uint8Array} */ bytes) => gzipSync(bytes, { level: 9 }).byteLength

/**
 * The esbuild options of an app's bundler building `entry` for a browser or a Worker (ESM, browser platform, with
 * the entry's externals and build flags), nothing written to disk.
 * @param {{ external?: string[], define?: Record<string, string> }} entry
 */
export const appBuild = (entry) => /** @type {const} */ ({
  bundle: true,
  format: 'esm',
  platform: 'browser',
  external: entry.external ?? [],
  define: entry.define ?? {},
  write: false,
  logLevel: 'silent',
})

/**
 * Bundles `export { ...imports } from '<from>'` the way an app's bundler would for a browser or a Worker (minified
 * ESM, browser platform, tree-shaken) and gzips it at level 9.
 * - `min`, `gzip`, `inputs`: one file, `import()` inlined. This is what the budgets hold: what wrangler uploads for
 *   a Worker (its default bundling inlines `import()`), and all the code an app's bundle holds.
 * - `upfront`, `lazy`: with code splitting (Vite, Rollup, webpack): code behind `import()` goes to chunks of its
 *   own. Up front is the entry chunk and the chunks it imports statically, each gzipped on its own and summed;
 *   `lazy` is the rest, fetched when that code first runs. Both are equal to the one-file numbers when nothing is
 *   behind `import()`.
 * @param {{ from: string, imports: string[], external?: string[], define?: Record<string, string> }} entry
 *   define: build flags the app's bundler sets (e.g. `{ __TIERCACHE_UPSTASH__: 'false' }`)
 * @param {string} resolveDir where `from` resolves (this package, whose devDependencies are the workspace packages)
 * @param {{ sources?: string }} [options] sources: the monorepo root, to bundle the packages' TypeScript sources
 *   instead of their dist (module-level inputs for --modules)
 */
export async function measure(entry, resolveDir, options = {}) {
  const contents = `export { ${entry.imports.join(', ')} } from ${JSON.stringify(entry.from)}`
  /** @type {import('esbuild').Plugin[]} */
  const plugins = [
    {
      name: 'size-entry',
      setup(b) {
        b.onResolve({ filter: /^size-entry$/ }, () => ({ path: 'size-entry', namespace: 'size' }))
        b.onLoad({ filter: /.*/, namespace: 'size' }, () => ({ contents, resolveDir, loader: 'js' }))
      },
    },
  ]
  const { sources } = options
  if (sources !== undefined) plugins.push(fromSources(sources))
  /** @param {boolean} splitting */
  const bundle = (splitting) =>
    build({
      entryPoints: ['size-entry'],
      ...appBuild(entry),
      plugins,
      splitting,
      // Nothing is written: outputs stay in memory, named relative to resolveDir as the metafile names them.
      absWorkingDir: resolveDir,
      outdir: 'size-out',
      minify: true,
      metafile: true,
    })
  const [one, split] = await Promise.all([bundle(false), bundle(true)])

  const file = one.outputFiles.find((output) => output.path.endsWith('.js'))
  if (file === undefined) throw new Error(`esbuild produced nothing for ${entry.from}`)
  /** @type {Record<string, number>} */
  const inputs = {}
  for (const output of Object.values(one.metafile.outputs)) for (const [name, info] of Object.entries(output.inputs)) inputs[name] = info.bytesInOutput

  const outputs = split.metafile.outputs
  const files = new Map(split.outputFiles.map((output) => [relative(resolveDir, output.path), output.contents]))
  const start = Object.keys(outputs).find((name) => outputs[name]?.entryPoint !== undefined)
  if (start === undefined) throw new Error(`esbuild produced nothing for ${entry.from}`)
  const upfrontNames = new Set([start])
  for (const name of upfrontNames) {
    for (const imported of outputs[name]?.imports ?? []) if (imported.kind === 'import-statement' && !imported.external) upfrontNames.add(imported.path)
  }
  const sizeOf = (/** @type {string} */ name) => {
    const bytes = files.get(name)
    if (bytes === undefined) throw new Error(`esbuild output ${name} is missing`)
    return { min: bytes.byteLength, gzip: gzipSize(bytes) }
  }
  const upfront = { min: 0, gzip: 0 }
  for (const name of upfrontNames) {
    const size = sizeOf(name)
    upfront.min += size.min
    upfront.gzip += size.gzip
  }
  const lazy = Object.keys(outputs)
    .filter((name) => !upfrontNames.has(name) && name.endsWith('.js'))
    .map((name) => ({ name, ...sizeOf(name), inputs: Object.keys(outputs[name]?.inputs ?? {}) }))

  return { min: file.contents.byteLength, gzip: gzipSize(file.contents), inputs, upfront, lazy, metafile: one.metafile, contents }
}

/**
 * What each module of an entry costs in gzip bytes: how much smaller the gzipped bundle gets without that module's
 * code, everything else kept. gzip shares repeated text across modules, so this is the module's own text, not its
 * share of the minified bytes (and the column does not add up to the total). Bundled from the TypeScript sources
 * like --modules, so without the dist's renamed properties (core's internal-props.json); each module's code is
 * minified on its own (esbuild marks where each begins when whitespace is kept). The total is thus some hundred
 * bytes over the budgets' number: compare modules with each other, and a module before and after a change.
 * @param {{ from: string, imports: string[], external?: string[], define?: Record<string, string> }} entry
 * @param {string} resolveDir
 * @param {string} sources the monorepo root
 * @returns {Promise<{ gzip: number, modules: { name: string, min: number, gzip: number }[] }>}
 */
export async function gzipShares(entry, resolveDir, sources) {
  const result = await build({
    stdin: { contents: `export { ${entry.imports.join(', ')} } from ${JSON.stringify(entry.from)}`, resolveDir, loader: 'js' },
    ...appBuild(entry),
    plugins: [fromSources(sources)],
    absWorkingDir: resolveDir,
    minifySyntax: true,
    minifyIdentifiers: true,
  })
  const text = result.outputFiles[0]?.text ?? ''
  /** @type {{ name: string, code: string }[]} */
  const parts = []
  for (const part of text.split(/^(?=\/\/ \S+\n)/m)) {
    const name = /^\/\/ (\S+)\n/.exec(part)?.[1] ?? '(entry)'
    // A part that does not parse alone (a class's private name used by a neighbour) keeps its line breaks.
    const code = await transform(part, { minifyWhitespace: true, loader: 'js' }).then(
      (out) => out.code,
      () => part.replace(/^\s+/gm, ''),
    )
    parts.push({ name, code })
  }
  const gzipOf = (/** @type {string} */ code) => gzipSize(Buffer.from(code))
  const gzip = gzipOf(parts.map((part) => part.code).join(''))
  const modules = parts.map((part, i) => ({
    name: part.name,
    min: part.code.length,
    gzip: gzip - gzipOf(parts.map((other, j) => (j === i ? '' : other.code)).join('')),
  }))
  return { gzip, modules: modules.sort((a, b) => b.gzip - a.gzip) }
}

/**
 * Resolves `@tiercache/<package>[/<subpath>]` to `packages/<package>/src/<subpath>/index.ts` (or `<subpath>.ts`, or
 * `index.ts`), so the metafile names source modules instead of dist chunks.
 * @param {string} root the monorepo root
 * @returns {import('esbuild').Plugin}
 */
function fromSources(root) {
  return {
    name: 'workspace-sources',
    setup(b) {
      b.onResolve({ filter: SOURCE_IMPORT }, (args) => sourceOf(root, args.path))
    },
  }
}

/** The import paths fromSources resolves: `@tiercache/<package>[/<subpath>]`. */
export const SOURCE_IMPORT = /^@tiercache\/[^/]+(\/.+)?$/

/**
 * Where fromSources resolves an import path matching SOURCE_IMPORT: `{ path }` of its source file, or undefined when
 * there is none.
 * @param {string} root the monorepo root
 * @param {string} path the import path
 * @returns {{ path: string } | undefined}
 */
export function sourceOf(root, path) {
  const [, pkg, sub] = /** @type {RegExpExecArray} */ (/^@tiercache\/([^/]+)(?:\/(.+))?$/.exec(path))
  const src = join(root, 'packages', /** @type {string} */ (pkg), 'src')
  const candidates = sub === undefined ? [join(src, 'index.ts')] : [join(src, sub, 'index.ts'), join(src, `${sub}.ts`)]
  const found = candidates.find((candidate) => existsSync(candidate))
  return found === undefined ? undefined : { path: found }
}

/**
 * Why each module of a one-file bundle is there: the modules that import it and the names they import. An import
 * through a barrel (a file that only re-exports, 0 bytes in the output, like a package's index.ts) counts when one
 * of the names imported from the barrel is re-exported from that module.
 * @param {import('esbuild').Metafile} metafile
 * @param {string} resolveDir the directory metafile paths are relative to
 * @param {string} entryText what the entry module says
 * @returns {Map<string, string[]>} module -> `importer (names)` entries
 */
export function importersOf(metafile, resolveDir, entryText) {
  /** @type {Record<string, number>} */
  const bytes = {}
  for (const output of Object.values(metafile.outputs)) for (const [name, info] of Object.entries(output.inputs)) bytes[name] = info.bytesInOutput
  /** @type {Map<string, string>} */
  const texts = new Map()
  const textOf = (/** @type {string} */ name) => {
    if (!texts.has(name)) texts.set(name, name.startsWith('size:') ? entryText : readFileSync(join(resolveDir, name), 'utf8'))
    return /** @type {string} */ (texts.get(name))
  }
  /** Value names `importer` takes from the import written `original` ('*' for a namespace or re-export of all). */
  const namesFrom = (/** @type {string} */ importer, /** @type {string} */ original) => {
    const text = textOf(importer)
    const names = new Set()
    const quoted = original.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    for (const match of text.matchAll(new RegExp(`(?:import|export)\\s+(type\\s+)?(\\{[^}]*\\}|\\*[^'"]*)\\s*from\\s*['"]${quoted}['"]`, 'g'))) {
      if (match[1] !== undefined) continue
      const list = /** @type {string} */ (match[2])
      if (list.startsWith('*')) names.add('*')
      for (const item of list.replace(/[{}]/g, '').split(',')) {
        const name = item.trim()
        if (name !== '' && !name.startsWith('type ')) names.add(/** @type {string} */ (name.split(/\s+as\s+/)[0]))
      }
    }
    return names
  }
  /** @type {Map<string, { importer: string, original: string }[]>} */
  const importers = new Map()
  for (const [name, input] of Object.entries(metafile.inputs)) {
    for (const imported of input.imports) {
      if (!importers.has(imported.path)) importers.set(imported.path, [])
      importers.get(imported.path)?.push({ importer: name, original: imported.original ?? imported.path })
    }
  }
  const short = (/** @type {string} */ name) => (name.startsWith('size:') ? 'entry' : name.replace(/^(\.\.\/)+/, '').replace(/^packages\//, ''))
  /** @type {Map<string, string[]>} */
  const why = new Map()
  for (const name of Object.keys(bytes)) {
    /** @type {string[]} */
    const found = []
    for (const { importer, original } of importers.get(name) ?? []) {
      const names = namesFrom(importer, original)
      if ((bytes[importer] ?? 0) > 0 || importer.startsWith('size:')) {
        found.push(`${short(importer)}${names.size > 0 ? ` (${[...names].join(', ')})` : ''}`)
        continue
      }
      // A barrel: who imports, from it, a name it re-exports from this module.
      if (names.size === 0) continue
      for (const outer of importers.get(importer) ?? []) {
        if (!((bytes[outer.importer] ?? 0) > 0 || outer.importer.startsWith('size:'))) continue
        const taken = namesFrom(outer.importer, outer.original)
        const hit = taken.has('*') ? [...names] : [...names].filter((exported) => exported === '*' || taken.has(exported))
        if (hit.length > 0) found.push(`${short(outer.importer)} (${hit.join(', ')} via ${short(importer)})`)
      }
    }
    why.set(name, [...new Set(found)])
  }
  return why
}

/**
 * The verdict on one entry: over when it exceeds its budget by more than `tolerance` (a fraction).
 * @param {number} gzip
 * @param {number} budget
 * @param {number} tolerance
 */
export function verdict(gzip, budget, tolerance) {
  const limit = Math.floor(budget * (1 + tolerance))
  return { limit, over: budget > 0 && gzip > limit }
}
