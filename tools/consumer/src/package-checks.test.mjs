import { describe, expect, it } from 'vitest'
import { packageProblems } from './package-checks.mjs'

const MIT = 'MIT License\n...'
const good = {
  name: '@tiercache/x',
  dir: '/r/packages/x',
  manifest: {
    license: 'MIT',
    repository: { type: 'git', url: 'git+https://example.invalid/r.git', directory: 'packages/x' },
    engines: { node: '>=20.19' },
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' }, './package.json': './package.json' },
  },
}
const files = [
  { path: 'LICENSE', size: 1000 },
  { path: 'README.md', size: 1000 },
  { path: 'dist/index.js', size: 8000 },
]
const tarball = { files, unpacked: 10_000, maps: 0 }
const expected = { license: MIT, engines: { node: '>=20.19' }, folder: 'packages/x', licenseText: MIT }

describe('packageProblems', () => {
  it('accepts a ship-ready package', () => {
    expect(packageProblems(good, tarball, expected)).toEqual([])
  })

  it('names each thing a tarball or manifest lacks', () => {
    const bare = { ...good, manifest: { license: 'ISC', exports: { '.': { import: './dist/index.js', types: './dist/index.d.ts' } } } }
    const problems = packageProblems(bare, { files: [{ path: 'dist/index.js', size: 10 }], unpacked: 10, maps: 0 }, expected)
    expect(problems.join('\n')).toMatch(/license is "ISC"/)
    expect(problems.join('\n')).toMatch(/no LICENSE/)
    expect(problems.join('\n')).toMatch(/no README\.md/)
    expect(problems.join('\n')).toMatch(/repository/)
    expect(problems.join('\n')).toMatch(/engines\.node/)
    expect(problems.join('\n')).toMatch(/"types" must come first/)
    expect(problems.join('\n')).toMatch(/no "default"/)
  })

  it('flags source maps over a third of the tarball and a LICENSE that differs from the root one', () => {
    const problems = packageProblems(good, { files, unpacked: 10_000, maps: 6_000 }, { ...expected, licenseText: 'other' })
    expect(problems).toEqual(['its LICENSE differs from the root LICENSE', 'source maps are 60% of the unpacked tarball'])
  })
})
