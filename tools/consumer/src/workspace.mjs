// What the workspace publishes: every non-private package under packages/, its public entries (the subpaths
// of its `exports`), and the versions of the tools and peers its own tests run with.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * @typedef {object} PublishedPackage
 * @property {string} name
 * @property {string} version
 * @property {string} dir absolute path of the package folder
 * @property {string[]} entries import specifiers of its public entries, e.g. '@tiercache/edge/hono'
 * @property {Record<string, string>} peers peer dependency -> version to install (the one its tests use)
 * @property {Record<string, any>} manifest its package.json
 */

/** @param {string} file */
export function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'))
}

/**
 * The import specifiers of a package's public entries: `exports` subpaths, minus package.json and other
 * non-code files and patterns.
 * @param {string} name
 * @param {Record<string, any>} manifest
 * @returns {string[]}
 */
export function publicEntries(name, manifest) {
  const exports = manifest.exports
  if (exports === undefined) return manifest.main === undefined ? [] : [name]
  if (typeof exports === 'string' || !Object.keys(exports).some((key) => key.startsWith('.'))) return [name]
  return Object.keys(exports)
    .filter((subpath) => subpath.startsWith('.') && !subpath.includes('*') && !/\.(json|css)$/.test(subpath))
    .map((subpath) => (subpath === '.' ? name : `${name}/${subpath.slice(2)}`))
}

/**
 * The version of `dependency` a package's own tests run with: its devDependency when pinned there, else the
 * peer range.
 * @param {Record<string, any>} manifest
 * @param {string} dependency
 */
function testedVersion(manifest, dependency) {
  const dev = manifest.devDependencies?.[dependency]
  if (typeof dev === 'string' && !dev.startsWith('workspace:')) return dev
  return manifest.peerDependencies[dependency]
}

/**
 * The DefinitelyTyped package of a package: 'memjs' -> '@types/memjs', '@scope/name' -> '@types/scope__name'.
 * @param {string} name
 */
export function typesPackage(name) {
  return `@types/${name.startsWith('@') ? name.slice(1).replace('/', '__') : name}`
}

/**
 * Every package under packages/ that is published (not private), sorted by name.
 * @param {string} root the workspace root
 * @returns {PublishedPackage[]}
 */
export function publishedPackages(root) {
  const dir = join(root, 'packages')
  const found = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const manifestFile = join(dir, entry.name, 'package.json')
    if (!entry.isDirectory() || !existsSync(manifestFile)) continue
    const manifest = readJson(manifestFile)
    if (manifest.private === true) continue
    const peers = Object.fromEntries(
      Object.keys(manifest.peerDependencies ?? {})
        .filter((peer) => !peer.startsWith('@tiercache/'))
        .flatMap((peer) => {
          // A peer without types of its own comes with its @types package, as a user would install it.
          const types = typesPackage(peer)
          const pinned = manifest.devDependencies?.[types]
          return [[peer, testedVersion(manifest, peer)], ...(typeof pinned === 'string' ? [[types, pinned]] : [])]
        }),
    )
    found.push({
      name: manifest.name,
      version: manifest.version,
      dir: join(dir, entry.name),
      entries: publicEntries(manifest.name, manifest),
      peers,
      manifest,
    })
  }
  return found.sort((a, b) => a.name.localeCompare(b.name))
}

/**
 * What a package's own sources compile against: DOM (lib) and/or Node (`types: ["node"]`), read from its
 * tsconfig.json (without following `extends`; the workspace base has neither).
 * @param {string} dir
 * @returns {{ dom: boolean, node: boolean }}
 */
export function packageEnvironment(dir) {
  const file = join(dir, 'tsconfig.json')
  const options = existsSync(file) ? (readJson(file).compilerOptions ?? {}) : {}
  const lib = (options.lib ?? []).map((l) => String(l).toLowerCase())
  const types = (options.types ?? []).map(String)
  return { dom: lib.includes('dom'), node: types.includes('node') }
}
