import type { Coordinator, Entry } from '@tiercache/core'
import { encodeEntry } from '@tiercache/core/store'
import { describe, expect, it } from 'vitest'
import { registerLink } from './link.js'
import { redisStore } from './redis-store.js'

function entry(value: unknown): Entry {
  const t = Date.now()
  return { value, createdAt: t, freshUntil: t + 60_000, staleUntil: t + 60_000 }
}

/**
 * A client whose GET answers from a list of values, one per call, and runs `during(call)` while the call is in
 * flight (to play a bus message arriving meanwhile).
 */
function scriptedClient(values: unknown[], during: (call: number) => void) {
  let calls = 0
  const client = {
    isCluster: false,
    async get() {
      const call = calls++
      during(call)
      await Promise.resolve()
      const value = values[Math.min(call, values.length - 1)]
      return value === undefined ? null : encodeEntry(entry(value))
    },
    // The store reads bytes (getBuffer, mgetBuffer): an entry may hold a binary value.
    getBuffer() {
      return client.get()
    },
    async mget() {
      return []
    },
    async mgetBuffer() {
      return []
    },
    set() {},
    async del() {
      return 0
    },
    pipeline() {},
    evalsha() {},
    duplicate() {},
  }
  return { client, calls: () => calls }
}

/** A coordinator link whose bus hears what the test says, when it says it. */
function fakeLink() {
  let heard = 0
  const evicted = new Map<string, number>()
  const coordinator = { name: 'fake', stamp: () => 0, tagStamp: () => 0, invalidateTags: async () => 1 } as Coordinator
  registerLink(coordinator, {
    channel: 'bus',
    keysMessage: () => '',
    tagTtl: 60_000,
    heard: () => heard,
    evictedSince: (key, since) => (evicted.get(key) ?? 0) > since,
  })
  return {
    coordinator,
    hear(key: string) {
      heard++
      evicted.set(key, heard)
    },
  }
}

describe('redisStore reads overtaken by the bus', () => {
  it('reads a key again when a message about it arrived while the read was in flight', async () => {
    const link = fakeLink()
    const { client, calls } = scriptedClient(['old', 'new'], (call) => {
      if (call === 0) link.hear('k')
    })
    const store = redisStore({ client: client as never, coordinator: link.coordinator, breaker: false })
    expect((await store.get('k'))?.value).toBe('new')
    expect(calls()).toBe(2)
  })

  it('a message about another key changes nothing', async () => {
    const link = fakeLink()
    const { client, calls } = scriptedClient(['v'], (call) => {
      if (call === 0) link.hear('other')
    })
    const store = redisStore({ client: client as never, coordinator: link.coordinator, breaker: false })
    expect((await store.get('k'))?.value).toBe('v')
    expect(calls()).toBe(1)
  })

  it('overtaken twice in a row: a miss, never a value that may be old', async () => {
    const link = fakeLink()
    const { client, calls } = scriptedClient(['v1', 'v2', 'v3'], () => link.hear('k'))
    const store = redisStore({ client: client as never, coordinator: link.coordinator, breaker: false })
    expect(await store.get('k')).toBeUndefined()
    expect(calls()).toBe(2)
  })
})

describe('redisStore options', () => {
  it("checks them with core/kit's rules: an empty name is refused, an empty prefix is no prefix", () => {
    const { client } = scriptedClient([], () => {})
    expect(() => redisStore(undefined as never)).toThrow(/redisStore\(options\) must be an options object/)
    // The package's own check let an empty name through (a store named '' in stats and events).
    expect(() => redisStore({ client: client as never, name: '' })).toThrow(/options\.name must be a non-empty string/)
    expect(() => redisStore({ client: client as never, name: 'x'.repeat(65) })).toThrow(RangeError)
    expect(() => redisStore({ client: client as never, prefix: 7 as never })).toThrow(/options\.prefix must be a string, got number/)
    expect(() => redisStore({ client: client as never, prefix: '', breaker: false })).not.toThrow()
    expect(() => redisStore({ client: client as never, maxTtl: 0 })).toThrow(/options\.maxTtl must be longer than 0 ms/)
    expect(() => redisStore({ client: client as never, bytes: 'yes' as never })).toThrow(/options\.bytes must be true or false/)
  })
})
