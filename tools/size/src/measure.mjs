import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

/**
 * Bundles `export { ...imports } from '<from>'` the way an app's bundler would for a browser or a Worker (minified
 * ESM, browser platform, tree-shaken) and gzips it at level 9.
 * @param {{ from: string, imports: string[], external?: string[] }} entry
 * @param {string} resolveDir where `from` resolves (this package, whose devDependencies are the workspace packages)
 * @returns {Promise<{ min: number, gzip: number, inputs: Record<string, number> }>}
 */
export async function measure(entry, resolveDir) {
  const result = await build({
    stdin: { contents: `export { ${entry.imports.join(', ')} } from ${JSON.stringify(entry.from)}`, resolveDir, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    external: entry.external ?? [],
    write: false,
    metafile: true,
    logLevel: 'silent',
  })
  const output = result.outputFiles[0]
  if (output === undefined) throw new Error(`esbuild produced nothing for ${entry.from}`)
  /** @type {Record<string, number>} */
  const inputs = {}
  for (const out of Object.values(result.metafile.outputs)) {
    for (const [file, info] of Object.entries(out.inputs)) inputs[file] = info.bytesInOutput
  }
  return { min: output.contents.byteLength, gzip: gzipSync(output.contents, { level: 9 }).byteLength, inputs }
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
