import { describe, expect, it } from 'vitest'
import { createCache } from '../cache.js'
import type { Entry } from '../entry.js'
import { CacheError } from '../errors.js'
import type { CacheEvent } from '../stats.js'
import { manualClock, ScriptedStore } from '../test-support/helpers.js'
import { circuitBreaker, type CircuitChange } from './circuit-breaker.js'
import { memoryStore } from './memory.js'

function entry(value: unknown, at: number): Entry {
  return { value, createdAt: at, freshUntil: at + 60_000, staleUntil: at + 60_000 }
}

describe('circuitBreaker', () => {
  it('passes calls through while the store answers, keeping name, maxTtl, timeout and batch methods', async () => {
    const inner = new ScriptedStore('remote', { maxTtl: 5_000, timeout: 300 })
    const store = circuitBreaker(inner)
    expect(store.name).toBe('remote')
    expect(store.maxTtl).toBe(5_000)
    expect(store.timeout).toBe(300)
    expect(store.circuit).toBe('closed')
    await store.set('a', entry('A', Date.now()))
    expect((await store.get('a'))?.value).toBe('A')
    expect((await store.getMany?.(['a', 'b']))?.map((e) => e?.value)).toEqual(['A', undefined])
    await store.setMany?.([['b', entry('B', Date.now())]])
    await store.delete('a')
    expect(inner.calls).toEqual({ get: 1, getMany: 1, set: 1, setMany: 1, delete: 1 })
  })

  it('opens after `failures` consecutive failures, then fails at once without calling the store', async () => {
    const clock = manualClock()
    const changes: CircuitChange[] = []
    const inner = new ScriptedStore('remote')
    inner.behaviour.get = 'reject'
    const store = circuitBreaker(inner, { failures: 3, cooldown: 1_000, now: clock.now, onStateChange: (c) => changes.push(c) })
    for (let i = 0; i < 3; i++) await expect(store.get('k')).rejects.toThrow('remote is down')
    expect(store.circuit).toBe('open')
    expect(changes).toEqual([expect.objectContaining({ tier: 'remote', state: 'open', failures: 3, cooldownMs: 1_000 })])
    const rejected = await store.get('k').catch((error: unknown) => error)
    expect(rejected).toBeInstanceOf(CacheError)
    expect((rejected as CacheError).message).toMatch(/circuit open: remote failed 3 times in a row; get not sent, next probe in 1000 ms/)
    expect(inner.calls.get).toBe(3)
  })

  it('a success in between resets the count: only consecutive failures open it', async () => {
    const inner = new ScriptedStore('remote')
    const store = circuitBreaker(inner, { failures: 2 })
    inner.behaviour.get = 'reject'
    await expect(store.get('k')).rejects.toThrow()
    inner.behaviour.get = 'ok'
    await store.get('k')
    inner.behaviour.get = 'reject'
    await expect(store.get('k')).rejects.toThrow()
    expect(store.circuit).toBe('closed')
  })

  it('after the cooldown one probe goes through: success closes, failure reopens for twice as long', async () => {
    const clock = manualClock()
    const states: string[] = []
    const inner = new ScriptedStore('remote')
    inner.behaviour.get = 'reject'
    const store = circuitBreaker(inner, { failures: 1, cooldown: 100, maxCooldown: 300, now: clock.now, onStateChange: (c) => states.push(`${c.state}${c.cooldownMs ?? ''}`) })
    await expect(store.get('k')).rejects.toThrow('remote is down')
    clock.advance(99)
    await expect(store.get('k')).rejects.toThrow(/circuit open/)
    clock.advance(1)
    expect(store.circuit).toBe('half-open')
    await expect(store.get('k')).rejects.toThrow('remote is down') // the probe, failing
    clock.advance(199)
    await expect(store.get('k')).rejects.toThrow(/circuit open/)
    clock.advance(1)
    await expect(store.get('k')).rejects.toThrow('remote is down')
    clock.advance(300) // capped at maxCooldown
    inner.behaviour.get = 'ok'
    await expect(store.get('k')).resolves.toBeUndefined()
    expect(store.circuit).toBe('closed')
    expect(states).toEqual(['open100', 'half-open', 'open200', 'half-open', 'open300', 'half-open', 'closed'])
    expect(inner.calls.get).toBe(4)
  })

  it('lets a single probe through: other calls during the probe fail at once', async () => {
    const clock = manualClock()
    const inner = new ScriptedStore('remote')
    inner.behaviour.get = 'reject'
    const store = circuitBreaker(inner, { failures: 1, cooldown: 10, now: clock.now })
    await expect(store.get('k')).rejects.toThrow()
    clock.advance(10)
    inner.behaviour.get = 'ok'
    const probe = store.get('k')
    await expect(store.get('k')).rejects.toThrow(/circuit open/)
    await probe
    expect(inner.calls.get).toBe(2)
    await store.get('k')
    expect(inner.calls.get).toBe(3)
  })

  it('a call that hangs fails after callTimeout and counts as a failure', async () => {
    const inner = new ScriptedStore('remote')
    inner.behaviour.get = 'hang'
    const store = circuitBreaker(inner, { failures: 2, callTimeout: 20 })
    await expect(store.get('k')).rejects.toThrow(/remote did not answer get within 20 ms/)
    await expect(store.get('k')).rejects.toThrow(/did not answer/)
    expect(store.circuit).toBe('open')
  })

  it('in a cache: an open circuit is a miss plus an error event, and the loader answers without touching the store', async () => {
    const clock = manualClock()
    const inner = new ScriptedStore('remote')
    inner.behaviour.get = 'reject'
    inner.behaviour.set = 'reject'
    const events: CacheEvent[] = []
    const cache = createCache({
      tiers: [memoryStore(), circuitBreaker(inner, { failures: 2, cooldown: 1_000 })],
      now: clock.now,
      policy: { ttl: '1m' },
      onEvent: (e) => events.push(e),
    })
    for (let i = 0; i < 4; i++) expect(await cache.getOrSet(`k${i}`, () => `v${i}`)).toBe(`v${i}`)
    await cache.idle()
    const callsWhenOpen = inner.calls.get + inner.calls.set
    expect(callsWhenOpen).toBeLessThanOrEqual(3)
    expect(await cache.getOrSet('k9', () => 'v9')).toBe('v9')
    await cache.idle()
    expect(inner.calls.get + inner.calls.set).toBe(callsWhenOpen)
    const errors = events.filter((e) => e.type === 'error')
    expect(errors.at(-1)?.error?.message).toMatch(/circuit open/)
    expect(errors.at(-1)?.tier).toBe('remote')
  })

  it('uses the clock of the cache it is given to', async () => {
    const clock = manualClock()
    const inner = new ScriptedStore('remote')
    inner.behaviour.get = 'reject'
    const store = circuitBreaker(inner, { failures: 1, cooldown: 1_000 })
    createCache({ tiers: [store], now: clock.now })
    await expect(store.get('k')).rejects.toThrow()
    expect(store.circuit).toBe('open')
    clock.advance(1_000)
    expect(store.circuit).toBe('half-open')
  })

  it('rejects bad options naming them', () => {
    const inner = new ScriptedStore('remote')
    expect(() => circuitBreaker(undefined as never)).toThrow(TypeError)
    expect(() => circuitBreaker(inner, { failures: 0 })).toThrow(/options.failures must be an integer >= 1/)
    expect(() => circuitBreaker(inner, { cooldown: 0 })).toThrow(/options.cooldown must be longer than 0/)
    expect(() => circuitBreaker(inner, { cooldown: '2s', maxCooldown: '1s' })).toThrow(/options.maxCooldown/)
    expect(() => circuitBreaker(inner, { callTimeout: -1 })).toThrow(RangeError)
    expect(() => circuitBreaker(inner, { onStateChange: 1 as never })).toThrow(/options.onStateChange must be a function/)
  })
})
