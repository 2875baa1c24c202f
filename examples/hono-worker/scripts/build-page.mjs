#!/usr/bin/env node
// Bundles the page (src/page/main.ts) with esbuild and copies its HTML and CSS into dist/public,
// the Worker's static assets directory (wrangler.toml [assets]).
import { build } from 'esbuild'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const page = join(root, 'src', 'page')
const out = join(root, 'dist', 'public')

/**
 * Builds the page into dist/public. Each file is replaced by a rename, so that a `wrangler dev` already serving
 * the directory, or a build running at the same time (turbo and the demo script), never sees half a file.
 * @returns {Promise<string>} the output directory
 */
export async function buildPage({ quiet = false } = {}) {
  const started = Date.now()
  const result = await build({
    entryPoints: [join(page, 'main.ts')],
    outfile: join(out, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
    write: false,
  })
  const files = [
    ...result.outputFiles.map((file) => /** @type {const} */ ([file.path, file.contents])),
    ...(await Promise.all(['index.html', 'styles.css'].map(async (name) => /** @type {const} */ ([join(out, name), await readFile(join(page, name))])))),
  ]
  await mkdir(out, { recursive: true })
  await Promise.all(
    files.map(async ([path, contents]) => {
      // An unchanged file is left alone: wrangler dev watches this directory and reloads the Worker on any write,
      // which would end the isolate of a demo already serving (the load test runs beside tests that start the demo).
      const current = await readFile(path).catch(() => undefined)
      if (current !== undefined && Buffer.compare(current, Buffer.from(contents)) === 0) return
      const temporary = join(out, `.${basename(path)}.${process.pid}.tmp`)
      await writeFile(temporary, contents)
      await rename(temporary, path)
    }),
  )
  if (!quiet) process.stderr.write(`page built into dist/public in ${Date.now() - started} ms\n`)
  return out
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildPage()
