// What every published package must carry, checked on its manifest and its packed tarball.

/**
 * The problems of one published package; empty when it is ship-ready.
 * @param {{ name: string, manifest: Record<string, any>, dir: string }} pkg
 * @param {{ files: { path: string, size: number }[], unpacked: number, maps: number }} tarball
 * @param {{ license: string, engines: Record<string, string>, folder: string, licenseText?: string | undefined }} expected
 *   `folder` is the package's folder relative to the root; `licenseText` the LICENSE found in the tarball
 */
export function packageProblems(pkg, tarball, expected) {
  const problems = []
  const { manifest } = pkg
  const has = (path) => tarball.files.some((file) => file.path === path)
  if (manifest.license !== 'MIT') problems.push(`license is ${JSON.stringify(manifest.license)}, not "MIT"`)
  if (!has('LICENSE')) problems.push('the tarball has no LICENSE (copy the root LICENSE into the package folder)')
  else if (expected.licenseText !== undefined && expected.licenseText.trim() !== expected.license.trim()) {
    problems.push('its LICENSE differs from the root LICENSE')
  }
  if (!has('README.md')) problems.push('the tarball has no README.md')
  if (manifest.repository?.directory !== expected.folder || typeof manifest.repository?.url !== 'string') {
    problems.push(`repository must be { type, url, directory: "${expected.folder}" }`)
  }
  for (const [engine, range] of Object.entries(expected.engines)) {
    if (manifest.engines?.[engine] !== range) problems.push(`engines.${engine} must be "${range}" like the root's`)
  }
  if (tarball.maps * 3 > tarball.unpacked) {
    problems.push(`source maps are ${Math.round((100 * tarball.maps) / tarball.unpacked)}% of the unpacked tarball`)
  }
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    if (typeof target !== 'object' || target === null || subpath.endsWith('.json')) continue
    const conditions = Object.keys(target)
    if (conditions[0] !== 'types') problems.push(`exports["${subpath}"]: "types" must come first`)
    if (!conditions.includes('default') && !conditions.includes('require')) {
      problems.push(`exports["${subpath}"] has no "default" (or "require") condition: require() fails with ERR_PACKAGE_PATH_NOT_EXPORTED while TypeScript accepts it`)
    }
  }
  return problems
}
