import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { headers, policy } from './headers.js'
import { provenance } from './provenance.js'
import { quickStart } from './quick-start.js'
import { resilience } from './resilience.js'
import { softInvalidation } from './soft-invalidation.js'
import { tagsAndBatches } from './tags-and-batches.js'

describe('core examples do what the README says', () => {
  it('quick start: one load, then memory hits', async () => {
    const r = await quickStart()
    expect(r.first).toEqual(r.again)
    expect(r.loads).toBe(1)
    expect(r.cacheControl).toBe('public, max-age=300, stale-while-revalidate=60, stale-if-error=3600')
    expect(r.stats).toMatchObject({ hits: 1, misses: 1 })
  })

  it('resilience: stale within swr, stale on error, negative caching', async () => {
    const r = await resilience()
    expect(r.stale?.name).toBe('Product 1')
    expect(r.duringOutage?.name).toBe('Product 1')
    expect(r.missing).toBeNull()
    expect(r.loads).toBe(4) // first load, swr refresh, failed load, product 999
    expect(r.stats.loadErrors).toBe(1)
  })

  it('tags and batches: one batch call, fresh data after invalidation', async () => {
    const r = await tagsAndBatches()
    expect(r.products.map((p) => p?.id)).toEqual([1, 2, 3])
    expect(r.some.map((p) => p?.id)).toEqual([1, undefined])
    expect(r.some[1]).toBeUndefined()
    expect(String(r.errors[1])).toMatch(/database down/)
    expect(r.batchCalls).toBe(1)
    expect(r.fresh?.price).toBe(99)
    expect(r.singleCalls).toBe(1)
  })

  it('soft invalidation: the old value answers at once while one refresh loads the new one', async () => {
    const r = await softInvalidation()
    expect(r.during).toBe(10)
    expect(r.after).toBe(99)
    expect(r.loads).toBe(3) // products 1 and 2, then the one refresh of product 1
  })

  it('provenance and loader control: status, skip, fail, forceFresh', async () => {
    const r = await provenance()
    expect(r.first).toBe('loaded')
    expect(r.second).toMatch(/^fresh from memory, fresh until \d+$/)
    expect(r.personal).toBe('Hello, Ada')
    expect(r.gone).toBe('gone')
    expect(r.reloaded).toBe('Product 1')
    expect(r.loads).toBe(3) // product 1, product 999, product 1 forced
  })

  it('headers: remaining lifetime through max-age and Age', () => {
    expect(headers['Cache-Control']).toBe('public, max-age=300, stale-while-revalidate=60, stale-if-error=86400')
    expect(Number(headers.Age)).toBeGreaterThanOrEqual(42)
    expect(headers['Cache-Status']).toMatch(/^tiercache; hit; ttl=25\d; detail=L1$/)
    expect(policy.ttl).toBe('5m')
  })
})

describe('README code blocks', () => {
  // Every ```ts block in the README preceded by <!-- example: path --> must appear in that file, line by line
  // and in order, so the README only shows code that is type-checked and run by a test.
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const blocks = [...readme.matchAll(/<!-- example: (\S+) -->\s*```ts\n([\s\S]*?)```/g)]
  const lines = (text: string) => text.split('\n').map((line) => line.trim()).filter((line) => line !== '')

  /** The first README line not found in order in the file, or undefined when all are. */
  function missingLine(code: string, source: string): string | undefined {
    const file = lines(source)
    let at = 0
    for (const line of lines(code)) {
      const found = file.indexOf(line, at)
      if (found === -1) return line
      at = found + 1
    }
    return undefined
  }

  it('has examples to check', () => {
    expect(blocks.length).toBeGreaterThan(3)
  })

  it.each(blocks.map((m) => [m[1] as string, m[2] as string]))('%s holds the README block', (file, code) => {
    expect(missingLine(code, readFileSync(join(root, file), 'utf8'))).toBeUndefined()
  })
})
