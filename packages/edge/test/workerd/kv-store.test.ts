// kvStore over miniflare's real Workers KV: the store contract, what it writes (metadata, expiration, hashed keys),
// bulk reads in chunks of 100, the size limit, and KV failing or hanging behind a wrapped binding.
import { createCache, memoryStore, type CacheEvent } from '@tiercache/core'
import { encodeEntry } from '@tiercache/core/store'
import { runStoreContract } from '@tiercache/core/testing'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { KV_MAX_VALUE_BYTES, kvStore, type KvEntryMetadata, type KvNamespaceLike } from '../../src/index'
import { entryFor as entry, manualClock, unique } from '../support/services'

const kv = env.TEST_KV

runStoreContract({ name: 'kvStore on Workers KV', create: () => kvStore({ namespace: kv, prefix: `${unique('contract')}:` }) })

const clock = manualClock()
runStoreContract({
  name: 'kvStore on Workers KV, with an injected clock',
  create: () => kvStore({ namespace: kv, prefix: `${unique('contract-clock')}:`, now: clock.now }),
  clock,
})

/** The binding with every call recorded; `fault` makes calls hang or throw. */
function recorded(fault: { mode: 'ok' | 'throw' | 'hang' } = { mode: 'ok' }): { binding: KvNamespaceLike; calls: { op: string; keys: string[]; options?: unknown }[] } {
  const calls: { op: string; keys: string[]; options?: unknown }[] = []
  const gate = (): Promise<void> => {
    if (fault.mode === 'throw') return Promise.reject(new Error('KV GET failed: 503 Service Unavailable'))
    if (fault.mode === 'hang') return new Promise(() => {})
    return Promise.resolve()
  }
  const binding = {
    async get(keys: string | string[], options: { type: 'text' }) {
      calls.push({ op: 'get', keys: Array.isArray(keys) ? keys : [keys], options })
      await gate()
      return kv.get(keys as string[], options)
    },
    async put(key: string, value: string, options: { expirationTtl: number; metadata: KvEntryMetadata }) {
      calls.push({ op: 'put', keys: [key], options })
      await gate()
      return kv.put(key, value, options)
    },
    async delete(key: string) {
      calls.push({ op: 'delete', keys: [key] })
      await gate()
      return kv.delete(key)
    },
  } as KvNamespaceLike
  return { binding, calls }
}

describe('kvStore: what it writes to KV', () => {
  it('writes the envelope as the value and the entry times as metadata, under <prefix>k:<key>', async () => {
    const prefix = `${unique('shape')}:`
    const store = kvStore({ namespace: kv, prefix })
    const e = entry({ id: 1 }, 120_000, { errorUntil: Date.now() + 600_000, tags: ['ns:product:1'] })
    await store.set('ns:product:1', e)
    const got = await kv.getWithMetadata<KvEntryMetadata>(`${prefix}k:ns:product:1`, 'text')
    expect(got.value).toBe(encodeEntry(e))
    expect(got.metadata).toEqual({ c: e.createdAt, f: e.freshUntil, s: e.staleUntil, e: e.errorUntil })
    // list() shows the times without reading values.
    const listed = await kv.list<KvEntryMetadata>({ prefix })
    expect(listed.keys.map((k) => [k.name, k.metadata?.s])).toEqual([[`${prefix}k:ns:product:1`, e.staleUntil]])
  })

  it('asks KV for at least its 60 s minimum expiration, and the remaining servable time beyond it', async () => {
    const { binding, calls } = recorded()
    const store = kvStore({ namespace: binding, prefix: `${unique('ttl')}:` })
    await store.set('short', entry('s', 5_000))
    await store.set('long', entry('l', 10_000, { errorUntil: Date.now() + 3_600_000 }))
    const ttls = calls.filter((c) => c.op === 'put').map((c) => (c.options as { expirationTtl: number }).expirationTtl)
    expect(ttls[0]).toBe(60)
    expect(ttls[1]).toBeGreaterThanOrEqual(3_599)
    expect(ttls[1]).toBeLessThanOrEqual(3_600)
    // KV itself refuses a shorter one: the minimum is real, not a choice of ours.
    await expect(kv.put(unique('too-short'), 'x', { expirationTtl: 30 })).rejects.toThrow(/60/)
  })

  it('keeps the envelope authoritative: an entry past its last moment is a miss while KV still holds the key', async () => {
    const clock = manualClock()
    const prefix = `${unique('authoritative')}:`
    const store = kvStore({ namespace: kv, prefix, now: clock.now })
    await store.set('k', { value: 'v', createdAt: clock.now(), freshUntil: clock.now() + 1_000, staleUntil: clock.now() + 2_000 })
    clock.advance(1_500)
    expect((await store.get('k'))?.value).toBe('v')
    clock.advance(600)
    expect(await store.get('k')).toBeUndefined()
    expect(await kv.get(`${prefix}k:k`)).not.toBeNull()
  })

  it('deletes instead of writing an entry with no time left', async () => {
    const { binding, calls } = recorded()
    const store = kvStore({ namespace: binding, prefix: `${unique('dead')}:` })
    await store.set('k', entry('live', 60_000))
    await store.set('k', entry('dead', -1))
    expect(calls.map((c) => c.op)).toEqual(['put', 'delete'])
    expect(await store.get('k')).toBeUndefined()
  })

  it('keeps keys over 512 bytes under their SHA-256, apart from each other', async () => {
    const prefix = `${unique('long')}:`
    const store = kvStore({ namespace: kv, prefix })
    const a = `${'é'.repeat(300)}a`
    const b = `${'é'.repeat(300)}b`
    await store.set(a, entry('A', 60_000))
    await store.set(b, entry('B', 60_000))
    expect((await store.get(a))?.value).toBe('A')
    expect((await store.get(b))?.value).toBe('B')
    const names = (await kv.list({ prefix })).keys.map((k) => k.name)
    expect(names).toHaveLength(2)
    for (const n of names) expect(n).toMatch(new RegExp(`^${prefix}h:[0-9a-f]{64}$`))
  })

  it('deletes a value that is not an entry and reads it as a miss', async () => {
    const prefix = `${unique('garbage')}:`
    await kv.put(`${prefix}k:bad`, '{"not":"an entry"}')
    const store = kvStore({ namespace: kv, prefix })
    expect(await store.get('bad')).toBeUndefined()
    expect(await kv.get(`${prefix}k:bad`)).toBeNull()
  })
})

describe('kvStore: getMany through KV bulk reads', () => {
  it('reads 250 keys in 3 KV calls (100 keys each at most), aligned, misses and repeats included', async () => {
    const prefix = `${unique('bulk')}:`
    const writer = kvStore({ namespace: kv, prefix })
    const keys = Array.from({ length: 250 }, (_, i) => `key${i}`)
    for (let i = 0; i < keys.length; i += 25) await Promise.all(keys.slice(i, i + 25).map((k, j) => writer.set(k, entry(i + j, 60_000))))
    const { binding, calls } = recorded()
    const reader = kvStore({ namespace: binding, prefix })
    const asked = [...keys, 'missing', 'key7']
    const got = await reader.getMany?.(asked)
    expect(got?.map((e) => e?.value)).toEqual([...keys.map((_, i) => i), undefined, 7])
    const gets = calls.filter((c) => c.op === 'get')
    expect(gets.map((c) => c.keys.length)).toEqual([100, 100, 51])
  })

  it('is what core uses for getManyOrSet: one KV call for a batch of misses', async () => {
    const { binding, calls } = recorded()
    const cache = createCache({ tiers: [memoryStore(), kvStore({ namespace: binding, prefix: `${unique('batch')}:` })], policy: { ttl: '1h' } })
    const values = await cache.getManyOrSet(['a', 'b', 'c'], (missing) => missing.map((k) => k.toUpperCase()))
    expect(values).toEqual(['A', 'B', 'C'])
    expect(calls.filter((c) => c.op === 'get')).toHaveLength(1)
  })
})

describe('kvStore: the value size limit', () => {
  it("refuses an entry over KV's 25 MiB with a RangeError naming the sizes, without calling KV", async () => {
    const { binding, calls } = recorded()
    const store = kvStore({ namespace: binding, prefix: `${unique('big')}:` })
    const error = await store.set('huge', entry('x'.repeat(25 * 1024 * 1024), 60_000)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RangeError)
    expect(String(error)).toMatch(/"huge" is 2621\d{4} bytes encoded, over the 26214400-byte value limit of Workers KV \(25 MiB\)/)
    expect(calls).toEqual([])
  })

  it('tells core its limit (Store.maxValueBytes), so a codec refuses larger values before KV is asked', () => {
    expect(kvStore({ namespace: kv }).maxValueBytes).toBe(KV_MAX_VALUE_BYTES)
    expect(kvStore({ namespace: kv, maxValueBytes: 1_000 }).maxValueBytes).toBe(1_000)
  })

  it('keeps a binary value (a Uint8Array) byte for byte', async () => {
    const cache = createCache({ tiers: [kvStore({ namespace: kv, prefix: `${unique('binary')}:` })], policy: { ttl: '1h' } })
    const bytes = new Uint8Array([0, 1, 2, 250, 255])
    await cache.set('b', bytes)
    expect(await cache.get('b')).toEqual(bytes)
  })

  it('stores a binary value as raw bytes after the JSON header (no base64), the times in metadata; get and getMany read it back', async () => {
    const prefix = `${unique('raw')}:`
    const store = kvStore({ namespace: kv, prefix })
    const bytes = new Uint8Array(30_000)
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256
    const e = entry(bytes, 60_000)
    await store.set('blob', e)
    const raw = await kv.getWithMetadata<KvEntryMetadata>(`${prefix}k:blob`, 'arrayBuffer')
    const stored = new Uint8Array(raw.value as ArrayBuffer)
    // base64 would be 40,000 bytes for the value alone.
    expect(stored.byteLength).toBeLessThan(30_400)
    const newline = stored.indexOf(10)
    expect(JSON.parse(new TextDecoder().decode(stored.subarray(0, newline)))).toMatchObject({ c: e.createdAt, f: e.freshUntil, s: e.staleUntil })
    expect(stored.subarray(newline + 1)).toEqual(bytes)
    expect(raw.metadata).toEqual({ c: e.createdAt, f: e.freshUntil, s: e.staleUntil })
    expect((await store.get('blob'))?.value).toEqual(bytes)
    // Bulk reads are text only: the binary entry is read once more, as bytes; the text one is not.
    await store.set('text', entry('plain', 60_000))
    const { binding, calls } = recorded()
    const got = await kvStore({ namespace: binding, prefix }).getMany?.(['text', 'blob', 'missing'])
    expect(got?.map((x) => x?.value)).toEqual(['plain', bytes, undefined])
    expect(calls.map((c) => `${c.op} ${c.keys.length} ${(c.options as { type: string }).type}`)).toEqual(['get 3 text', 'get 1 arrayBuffer'])
  })

  it('still reads binary entries written as base64 text (before raw bytes), by get and getMany', async () => {
    const prefix = `${unique('base64')}:`
    const bytes = new Uint8Array([0, 10, 13, 200, 255, 10])
    const old = entry(bytes, 60_000)
    // What kvStore wrote before: encodeEntry's text, the value in base64.
    await kv.put(`${prefix}k:old`, encodeEntry(old))
    expect(await kv.get(`${prefix}k:old`)).toContain('"b":')
    const store = kvStore({ namespace: kv, prefix })
    expect((await store.get('old'))?.value).toEqual(bytes)
    expect((await store.getMany?.(['old']))?.map((x) => x?.value)).toEqual([bytes])
  })

  it('counts the bytes of a binary value against maxValueBytes', async () => {
    const store = kvStore({ namespace: kv, prefix: `${unique('max-bytes')}:`, maxValueBytes: 1_000 })
    await store.set('fits', entry(new Uint8Array(800), 60_000))
    await expect(store.set('over', entry(new Uint8Array(1_000), 60_000))).rejects.toThrow(/"over" is 1\d{3} bytes encoded, over the 1000-byte value limit/)
  })

  it('applies a lower maxValueBytes, and the cache reports the refusal as a tier error while still answering', async () => {
    const events: CacheEvent[] = []
    const store = kvStore({ namespace: kv, prefix: `${unique('max')}:`, maxValueBytes: 1_000 })
    const cache = createCache({ tiers: [memoryStore(), store], policy: { ttl: '1h' }, onEvent: (e) => events.push(e) })
    expect(await cache.getOrSet('big', () => 'é'.repeat(600))).toBe('é'.repeat(600))
    await cache.idle()
    const error = events.find((e) => e.type === 'error')
    expect(error?.tier).toBe('kv')
    expect(error?.error.code).toBe('TIER_ERROR')
    expect(String(error?.error.cause)).toMatch(/1\d{3} bytes encoded, over the 1000-byte value limit \(options.maxValueBytes\)/)
  })

  it('rejects bad options at the factory, naming the option', () => {
    expect(() => kvStore({ namespace: {} as KvNamespaceLike })).toThrow(/options.namespace must be a Workers KV namespace binding/)
    expect(() => kvStore(undefined as never)).toThrow(TypeError)
    expect(() => kvStore({ namespace: kv, cacheTtl: '10s' })).toThrow(/options.cacheTtl must be at least 30 s/)
    expect(() => kvStore({ namespace: kv, maxValueBytes: 30 * 1024 * 1024 })).toThrow(RangeError)
    expect(() => kvStore({ namespace: kv, prefix: 7 as never })).toThrow(/options.prefix must be a string/)
    // An empty prefix is a choice (keys as core gives them); an empty name would leave events without a tier name.
    expect(kvStore({ namespace: kv, prefix: '' }).name).toBe('kv')
    expect(() => kvStore({ namespace: kv, name: '' })).toThrow(/options.name must be a non-empty string/)
  })
})

describe('kvStore: KV failing or hanging is a miss plus an event', () => {
  for (const mode of ['throw', 'hang'] as const) {
    it(`KV that ${mode === 'throw' ? 'throws' : 'never answers'}: the loader answers, the error is an event, nothing rejects`, async () => {
      const fault = { mode: 'ok' as 'ok' | 'throw' | 'hang' }
      const { binding } = recorded(fault)
      const events: CacheEvent[] = []
      const l1 = memoryStore()
      const cache = createCache({
        tiers: [l1, kvStore({ namespace: binding, prefix: `${unique(`fault-${mode}`)}:` })],
        policy: { ttl: '1h' },
        tierTimeout: '200ms',
        onEvent: (e) => events.push(e),
      })
      fault.mode = mode
      const started = Date.now()
      expect(await cache.getOrSet('k', () => 'from origin')).toBe('from origin')
      // Bound: the tier timeout (200 ms) many times over, on a shared machine.
      expect(Date.now() - started).toBeLessThan(3_000)
      const errors = events.filter((e) => e.type === 'error')
      expect(errors[0]?.tier).toBe('kv')
      expect(errors[0]?.error.code).toBe(mode === 'throw' ? 'TIER_ERROR' : 'TIER_TIMEOUT')
      expect(cache.stats().tiers.find((t) => t.name === 'kv')?.errors).toBeGreaterThanOrEqual(1)
      // L1 still got the value; the next read answers from it without KV.
      expect(await cache.getOrSet('k', () => 'again')).toBe('from origin')
    })
  }
})
