import { afterAll, describe, expect, it } from 'vitest'
import type { Entry } from '../entry.js'
import type { Store } from '../store.js'

export interface StoreContractOptions {
  /** Suite title. */
  name: string
  /** A new store for each test (give each one a unique namespace, database or prefix when the backend is shared). */
  create: () => Store | Promise<Store>
  /**
   * The clock the created stores use, when they take an injected one: the expiry tests then advance it.
   * Without it, expiry is checked with entries already past their moments on the real clock.
   */
  clock?: { now(): number; advance(ms: number): void }
  /** Longest key the store must accept. @default 1024 */
  maxKeyLength?: number
  /** Called after the suite with every store it created. */
  cleanup?: (stores: Store[]) => void | Promise<void>
}

/**
 * The behaviour every tiercache store must have, as a vitest suite. Every store in this project runs it: memory,
 * IndexedDB (fake and in Chromium), the Workers Cache API (in workerd) and Upstash (against redis-server).
 *
 * @example
 * runStoreContract({ name: 'memoryStore', create: () => memoryStore() })
 */
export function runStoreContract(options: StoreContractOptions): void {
  const { name, clock, maxKeyLength = 1024 } = options
  const created: Store[] = []
  const now = (): number => (clock === undefined ? Date.now() : clock.now())
  let serial = 0
  const key = (label: string): string => `contract:${label}:${++serial}:${Math.random().toString(36).slice(2, 8)}`

  async function store(): Promise<Store> {
    const s = await options.create()
    created.push(s)
    return s
  }

  function entry(value: unknown, lifeMs = 60_000, extra: Partial<Entry> = {}): Entry {
    const t = Math.floor(now())
    return { value, createdAt: t, freshUntil: t + lifeMs, staleUntil: t + lifeMs, ...extra }
  }

  describe(`store contract: ${name}`, () => {
    afterAll(async () => {
      await options.cleanup?.(created)
    })

    it('has a non-empty name', async () => {
      const s = await store()
      expect(typeof s.name).toBe('string')
      expect(s.name.length).toBeGreaterThan(0)
    })

    it('answers undefined for a key it never held', async () => {
      const s = await store()
      expect(await s.get(key('missing'))).toBeUndefined()
    })

    it('returns what was set, every field intact', async () => {
      const s = await store()
      const k = key('roundtrip')
      const t = Math.floor(now())
      const e: Entry = {
        value: { id: 7, name: 'Grüße 👋', tags: ['a', 'b'], nested: { ok: true, n: -1.5, none: null } },
        createdAt: t,
        freshUntil: t + 60_000,
        staleUntil: t + 90_000,
        errorUntil: t + 600_000,
        tags: ['product:7', 'catalog'],
        loadMs: 12,
      }
      await s.set(k, e)
      expect(await s.get(k)).toEqual(e)
    })

    it('keeps a negative entry as negative, with a null value', async () => {
      const s = await store()
      const k = key('negative')
      const e = entry(null, 30_000, { negative: true })
      await s.set(k, e)
      const got = await s.get(k)
      expect(got?.negative).toBe(true)
      expect(got?.value).toBeNull()
    })

    it('round-trips every JSON-compatible value shape', async () => {
      const s = await store()
      const values: unknown[] = [
        '',
        'plain',
        'ünïcödé ✓ 𝄞 日本語',
        0,
        -42,
        3.25,
        Number.MAX_SAFE_INTEGER,
        true,
        false,
        [],
        {},
        [1, 'two', { three: [3] }],
        { deep: { deeper: { deepest: ['x'] } } },
        '"quoted" \\ back\\slash \n newline \u0000 nul',
        'x'.repeat(200_000),
      ]
      const keys = values.map((_, i) => key(`shape${i}`))
      for (let i = 0; i < values.length; i++) await s.set(keys[i] as string, entry(values[i]))
      for (let i = 0; i < values.length; i++) expect((await s.get(keys[i] as string))?.value).toEqual(values[i])
    })

    it('treats keys byte for byte: special characters, case, long keys', async () => {
      const s = await store()
      const base = key('chars')
      const keys = [
        `${base}/a b?c=d&e#f%20g`,
        `${base}:ÜNI-ключ-🔑`,
        `${base}:Case`,
        `${base}:case`,
        `${base}:case `,
        `${base}:${'k'.repeat(Math.max(0, maxKeyLength - base.length - 1))}`,
      ]
      for (const [i, k] of keys.entries()) await s.set(k, entry(i))
      for (const [i, k] of keys.entries()) expect((await s.get(k))?.value).toBe(i)
    })

    it('overwrites an existing entry', async () => {
      const s = await store()
      const k = key('overwrite')
      await s.set(k, entry('first'))
      await s.set(k, entry('second'))
      expect((await s.get(k))?.value).toBe('second')
    })

    it('deletes, and deleting a missing key resolves', async () => {
      const s = await store()
      const k = key('delete')
      await s.set(k, entry('x'))
      await s.delete(k)
      expect(await s.get(k)).toBeUndefined()
      await expect(s.delete(key('never'))).resolves.toBeUndefined()
    })

    it('does not keep an entry whose every window has already ended', async () => {
      const s = await store()
      const k = key('dead')
      const t = Math.floor(now())
      await s.set(k, { value: 'old', createdAt: t - 10_000, freshUntil: t - 5_000, staleUntil: t - 2_000, errorUntil: t - 1_000 })
      expect(await s.get(k)).toBeUndefined()
    })

    it('keeps an entry past freshUntil and staleUntil while its stale-if-error window lasts', async () => {
      const s = await store()
      const k = key('error-window')
      const t = Math.floor(now())
      const e: Entry = { value: 'still useful', createdAt: t - 10_000, freshUntil: t - 5_000, staleUntil: t - 5_000, errorUntil: t + 60_000 }
      await s.set(k, e)
      expect(await s.get(k)).toEqual(e)
    })

    if (clock !== undefined) {
      it('drops an entry after its last servable moment', async () => {
        const s = await store()
        const k = key('expiry')
        await s.set(k, entry('short', 1_000))
        clock.advance(999)
        expect((await s.get(k))?.value).toBe('short')
        clock.advance(2)
        expect(await s.get(k)).toBeUndefined()
      })
    }

    it('keeps many keys apart under concurrent writes', async () => {
      const s = await store()
      const keys = Array.from({ length: 40 }, (_, i) => key(`many${i}`))
      await Promise.all(keys.map((k, i) => s.set(k, entry({ i }))))
      const got = await Promise.all(keys.map((k) => s.get(k)))
      expect(got.map((e) => (e?.value as { i: number } | undefined)?.i)).toEqual(keys.map((_, i) => i))
    })

    it('getMany, when present, answers aligned with its keys, misses and repeats included', async () => {
      const s = await store()
      if (s.getMany === undefined) return
      const a = key('many-a')
      const b = key('many-b')
      await s.set(a, entry('A'))
      await s.set(b, entry('B'))
      const got = await s.getMany([a, key('many-missing'), b, a])
      expect(got.map((e) => e?.value)).toEqual(['A', undefined, 'B', 'A'])
      expect(await s.getMany([])).toEqual([])
    })

    it('setMany, when present, writes every entry', async () => {
      const s = await store()
      if (s.setMany === undefined) return
      const keys = [key('set-many-1'), key('set-many-2'), key('set-many-3')]
      await s.setMany(keys.map((k, i) => [k, entry(`v${i}`)] as const))
      for (const [i, k] of keys.entries()) expect((await s.get(k))?.value).toBe(`v${i}`)
    })

    it('getSync and setSync, when present, come together and agree with get and set', async () => {
      const s = await store()
      expect(s.getSync === undefined).toBe(s.setSync === undefined)
      if (s.getSync === undefined || s.setSync === undefined) return
      const [a, b] = [key('sync-a'), key('sync-b')]
      const t = Math.floor(now())
      const full: Entry = { value: { n: 1 }, createdAt: t, freshUntil: t + 60_000, staleUntil: t + 90_000, errorUntil: t + 600_000, tags: ['x'], loadMs: 3 }
      expect(s.getSync(a)).toBeUndefined()
      s.setSync(a, full)
      // The sync read may be a reused view: read it before the next call.
      const seen = { ...pick(s.getSync(a)) }
      expect(seen).toEqual(full)
      expect(await s.get(a)).toEqual(full)
      await s.set(b, entry('async'))
      expect(s.getSync(b)?.value).toBe('async')
      expect(s.getSync(a)?.value).toEqual({ n: 1 })
      await s.delete(a)
      expect(s.getSync(a)).toBeUndefined()
    })
  })
}

/** The fields of an entry read through getters too (a sync view may have no own properties). */
function pick(entry: Entry | undefined): Partial<Entry> {
  if (entry === undefined) return {}
  const out: Partial<Entry> = {}
  for (const field of ['value', 'createdAt', 'freshUntil', 'staleUntil', 'errorUntil', 'tags', 'negative', 'loadMs', 'stamp'] as const) {
    if (entry[field] !== undefined) (out as Record<string, unknown>)[field] = entry[field]
  }
  return out
}
