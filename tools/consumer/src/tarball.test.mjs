import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tarEntries } from './tarball.mjs'
import { formatTable } from './table.mjs'
import { parseDiagnostics } from './typecheck.mjs'
import { publicEntries, typesPackage } from './workspace.mjs'

const dir = mkdtempSync(join(tmpdir(), 'tarball-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('tarEntries', () => {
  it('lists the files of a gzipped tar with their sizes, long paths included', () => {
    const long = `dist/${'deep/'.repeat(25)}file.js`
    mkdirSync(join(dir, 'package', ...long.split('/').slice(0, -1)), { recursive: true })
    writeFileSync(join(dir, 'package', 'LICENSE'), 'MIT')
    writeFileSync(join(dir, 'package', long), 'x'.repeat(700))
    const made = spawnSync('tar', ['-czf', 'out.tgz', 'package'], { cwd: dir })
    expect(made.status).toBe(0)
    const entries = tarEntries(readFileSync(join(dir, 'out.tgz')))
    expect(entries).toContainEqual({ path: 'LICENSE', size: 3 })
    expect(entries).toContainEqual({ path: long, size: 700 })
  })
})

describe('helpers', () => {
  it('publicEntries: exports subpaths as import specifiers, without package.json', () => {
    const manifest = { exports: { '.': {}, './hono': {}, './package.json': './package.json' } }
    expect(publicEntries('@tiercache/edge', manifest)).toEqual(['@tiercache/edge', '@tiercache/edge/hono'])
  })

  it('typesPackage: the DefinitelyTyped name, scoped packages included', () => {
    expect(typesPackage('memjs')).toBe('@types/memjs')
    expect(typesPackage('@scope/name')).toBe('@types/scope__name')
  })

  it('parseDiagnostics: one entry per error line', () => {
    const output = "a.d.ts(1,2): error TS2304: Cannot find name 'X'.\n  more text\nerror TS5083: Cannot read file.\n"
    expect(parseDiagnostics(output).map((d) => [d.file, d.code])).toEqual([
      ['a.d.ts', 'TS2304'],
      ['', 'TS5083'],
    ])
  })

  it('formatTable aligns the columns', () => {
    expect(formatTable(['a', 'bb'], [['xyz', '1']])).toBe('| a   | bb |\n| --- | -- |\n| xyz | 1  |')
  })
})
