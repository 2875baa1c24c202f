// Packing a workspace package as it would be published (pnpm rewrites `workspace:` ranges) and reading
// what the tarball holds.
import { spawnSync } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'

/**
 * Packs the package in `dir` into `destination`; returns the tarball's path.
 * @param {string} dir
 * @param {string} destination
 * @param {NodeJS.ProcessEnv} env
 */
export function pack(dir, destination, env) {
  const result = spawnSync('pnpm', ['pack', '--pack-destination', destination], { cwd: dir, env, encoding: 'utf8' })
  const tarball = result.stdout
    .split('\n')
    .map((line) => line.trim())
    .reverse()
    .find((line) => line.endsWith('.tgz'))
  if (result.status !== 0 || tarball === undefined) {
    throw new Error(`pnpm pack failed in ${dir}:\n${result.stdout}\n${result.stderr}`)
  }
  return tarball
}

/**
 * The regular files of a .tgz, with their sizes (ustar headers, with pax and GNU long names).
 * @param {Buffer} gzipped
 * @returns {{ path: string, size: number }[]}
 */
export function tarEntries(gzipped) {
  const tar = gunzipSync(gzipped)
  const files = []
  let offset = 0
  let longName
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512)
    if (header.every((byte) => byte === 0)) break
    const field = (start, length) => header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '')
    const size = parseInt(field(124, 12).trim() || '0', 8)
    const type = field(156, 1) || '0'
    const body = tar.subarray(offset + 512, offset + 512 + size)
    if (type === 'x') {
      // pax extended header (npm, pnpm)
      const path = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))
      longName = path?.[1]
    } else if (type === 'L') {
      // GNU long name
      longName = body.toString('utf8').replace(/\0.*$/s, '')
    } else if (type === '0' || type === '7') {
      const prefix = field(345, 155)
      const name = longName ?? (prefix === '' ? field(0, 100) : `${prefix}/${field(0, 100)}`)
      files.push({ path: name.replace(/^package\//, ''), size })
      longName = undefined
    }
    offset += 512 + Math.ceil(size / 512) * 512
  }
  return files
}

/**
 * Sizes of a tarball: packed bytes, unpacked bytes, how many of those are source maps, and its files.
 * @param {string} tarball
 */
export function tarballSummary(tarball) {
  const files = tarEntries(readFileSync(tarball))
  const unpacked = files.reduce((sum, file) => sum + file.size, 0)
  const maps = files.filter((file) => file.path.endsWith('.map')).reduce((sum, file) => sum + file.size, 0)
  return { packed: statSync(tarball).size, unpacked, maps, files }
}
