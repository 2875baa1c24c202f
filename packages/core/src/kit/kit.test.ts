import { describe, expect, it } from 'vitest'
import * as kit from './index.js'
import { Flights } from './flights.js'
import { assertOptions, optionalBoolean, optionalDuration, optionalFunction, optionalInteger, optionalString } from './options.js'

describe('@tiercache/core/kit option checks', () => {
  it('return the value, or the fallback when undefined', () => {
    const f = (): void => {}
    expect(optionalFunction(f, 'options.f')).toBe(f)
    expect(optionalFunction(undefined, 'options.f', f)).toBe(f)
    expect(optionalString('tc:', 'options.prefix', 'x')).toBe('tc:')
    expect(optionalString(undefined, 'options.prefix', 'x')).toBe('x')
    expect(optionalBoolean(false, 'options.on', true)).toBe(false)
    expect(optionalInteger(undefined, 'options.n', 1, 10, 5)).toBe(5)
    expect(optionalDuration('2s', 'options.ttl')).toBe(2_000)
    expect(optionalDuration(undefined, 'options.ttl', 7)).toBe(7)
    expect(() => assertOptions(undefined, 'kvStore(options)', true)).not.toThrow()
  })

  it('throw TypeError or RangeError naming the option and the rule', () => {
    expect(() => assertOptions(null, 'kvStore(options)')).toThrow(new TypeError('kvStore(options) must be an options object, got null'))
    expect(() => assertOptions([], 'kvStore(options)')).toThrow(/got an array/)
    expect(() => optionalFunction(1, 'options.onError')).toThrow(new TypeError('options.onError must be a function, got number'))
    expect(() => optionalString('', 'options.prefix')).toThrow(TypeError)
    // A prefix may be empty when the call site says so; other types are still refused, with the rule it applies.
    expect(optionalString('', 'options.prefix', 'tc:', 64, { empty: true })).toBe('')
    expect(() => optionalString(7, 'options.prefix', undefined, 64, { empty: true })).toThrow(new TypeError('options.prefix must be a string, got number'))
    expect(() => optionalString('x'.repeat(65), 'options.prefix', undefined, 64, { empty: true })).toThrow(RangeError)
    expect(() => optionalString('x'.repeat(5), 'options.prefix', undefined, 4)).toThrow(new RangeError('options.prefix must be at most 4 characters, got 5'))
    expect(() => optionalBoolean('yes', 'options.on')).toThrow(/options\.on must be true or false, got string/)
    expect(() => optionalInteger(1.5, 'options.n', 1)).toThrow(TypeError)
    expect(() => optionalInteger(11, 'options.n', 1, 10)).toThrow(new RangeError('options.n must be from 1 to 10, got 11'))
    expect(() => optionalDuration('5x' as never, 'options.ttl')).toThrow(/options\.ttl/)
    expect(() => optionalDuration(0, 'options.ttl', 1, { positive: true })).toThrow(new RangeError('options.ttl must be longer than 0 ms'))
  })

  it('exports the shared helpers from one entry', () => {
    expect(Object.keys(kit).sort()).toEqual(
      [
        'Background',
        'Flights',
        'MAX_DURATION_MS',
        'assertOptions',
        'coarseClock',
        'createAbortController',
        'fromBase64',
        'noop',
        'optionalBoolean',
        'optionalDuration',
        'optionalFunction',
        'optionalInteger',
        'optionalString',
        'parseDuration',
        'parseOptionalDuration',
        'setBounded',
        'sleep',
        'TagStamps',
        'toBase64',
        'trackBackground',
        'typeOf',
        'withDeadline',
      ].sort(),
    )
  })
})

describe('Flights', () => {
  it('shares the running work of a key, and starts anew once it settled', async () => {
    const flights = new Flights<string, number>()
    let started = 0
    let finish!: (n: number) => void
    const start = (): Promise<number> => {
      started++
      return new Promise<number>((resolve) => (finish = resolve))
    }
    const a = flights.run('k', start)
    const b = flights.run('k', start)
    expect(a).toBe(b)
    expect(flights.has('k')).toBe(true)
    expect(started).toBe(1)
    finish(1)
    expect(await a).toBe(1)
    expect(flights.size).toBe(0)
    const c = flights.run('k', start)
    expect(started).toBe(2)
    finish(2)
    expect(await c).toBe(2)
  })

  it('forgets failed work too, and turns a throwing start into a rejection', async () => {
    const flights = new Flights<string, number>()
    await expect(flights.run('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down')
    expect(flights.has('k')).toBe(false)
    await expect(
      flights.run('k', () => {
        throw new Error('sync')
      }),
    ).rejects.toThrow('sync')
    expect(flights.size).toBe(0)
  })

  it('forget(key) stops sharing: the next call starts its own work', async () => {
    const flights = new Flights<string, string>()
    let n = 0
    const first = flights.run('k', () => new Promise((resolve) => setTimeout(() => resolve(`v${++n}`), 1)))
    flights.forget('k')
    const second = flights.run('k', async () => `w${++n}`)
    expect(first).not.toBe(second)
    expect(await second).toBe('w1')
    expect(await first).toBe('v2')
  })
})

describe('trackBackground', () => {
  it("puts work on a cache's background (idle() waits, waitUntil gets it); other objects only absorb its rejection", async () => {
    const { createCache, memoryStore } = await import('../index.js')
    const handed: Promise<unknown>[] = []
    const cache = createCache({ tiers: [memoryStore()], waitUntil: (p) => void handed.push(p) })
    let release: () => void = () => undefined
    const work = new Promise<void>((resolve) => (release = resolve))
    kit.trackBackground(cache, work)
    expect(handed).toHaveLength(1)
    let idle = false
    const settled = cache.idle().then(() => (idle = true))
    await Promise.resolve()
    expect(idle).toBe(false)
    release()
    await settled
    expect(() => kit.trackBackground({}, Promise.reject(new Error('absorbed')))).not.toThrow()
  })
})
