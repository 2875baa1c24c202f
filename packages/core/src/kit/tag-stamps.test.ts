import { describe, expect, it } from 'vitest'
import { setBounded, TagStamps } from './tag-stamps.js'

function memory(options: { trustFor?: number; maxTags?: number; whole?: boolean } = {}) {
  const clock = { now: 1_000 }
  const stamps = new TagStamps({ trustFor: options.trustFor ?? 5_000, maxTags: options.maxTags ?? 100, now: () => clock.now, whole: options.whole })
  const reads: string[][] = []
  /** A storage read answering `stored` for each tag, remembering it as read at `at`. */
  const reader =
    (stored: Record<string, number>) =>
    (tags: string[], at: number): Promise<number[]> => {
      reads.push(tags)
      for (const tag of tags) stamps.remember(tag, stored[tag] ?? 0, at)
      return Promise.resolve(tags.map((tag) => stamps.stampOf(tag)))
    }
  return { clock, stamps, reads, reader }
}

describe('TagStamps', () => {
  it('answers synchronously within trustFor, and reads only the unknown or outdated tags after it', async () => {
    const { clock, stamps, reads, reader } = memory()
    const read = reader({ a: 10, b: 20 })
    expect(await stamps.tagStamp(['a', 'b'], read)).toBe(20)
    expect(stamps.tagStamp(['a', 'b'], read)).toBe(20)
    clock.now += 4_999
    stamps.remember('a', 10, clock.now)
    clock.now += 1
    const next = stamps.tagStamp(['a', 'b'], read)
    expect(next).toBeInstanceOf(Promise)
    expect(await next).toBe(20)
    expect(reads).toEqual([['a', 'b'], ['b']])
  })

  it('never lowers a stamp, and counts a tag being invalidated here as Infinity until its new stamp is known', async () => {
    const { clock, stamps } = memory()
    stamps.remember('a', 50, clock.now)
    stamps.remember('a', 40, clock.now + 1)
    expect(stamps.stampOf('a')).toBe(50)
    let finish: (stamp: number) => void = () => undefined
    const work = stamps.invalidate(['a'], () => new Promise<number>((resolve) => (finish = resolve)))
    expect(stamps.tagStamp(['a'])).toBe(Number.POSITIVE_INFINITY)
    expect(stamps.stampOf('a')).toBe(Number.POSITIVE_INFINITY)
    expect(stamps.recorded('a')).toBe(50)
    finish(60)
    expect(await work).toBe(60)
    expect(stamps.tagStamp(['a', 'b'])).toBe(60)
    expect(stamps.current).toBe(60)
  })

  it('loadStamp: the current stamp, or while an invalidation is under way here, its stamp once it settled (also when it failed)', async () => {
    const { stamps } = memory()
    stamps.raise(50)
    expect(stamps.loadStamp()).toBe(50)
    let finish: (stamp: number) => void = () => undefined
    const work = stamps.invalidate(['a'], () => new Promise<number>((resolve) => (finish = resolve)))
    const during = stamps.loadStamp()
    expect(during).toBeInstanceOf(Promise)
    finish(60)
    expect(await during).toBe(60)
    expect(await work).toBe(60)
    expect(stamps.loadStamp()).toBe(60)
    let fail: (error: Error) => void = () => undefined
    const failing = stamps.invalidate(['a'], () => new Promise<number>((_, reject) => (fail = reject)))
    const beside = stamps.loadStamp()
    fail(new Error('unreachable'))
    await expect(failing).rejects.toThrow('unreachable')
    expect(await beside).toBe(60)
    expect(stamps.loadStamp()).toBe(60)
  })

  it("a failed invalidation keeps its tags dead until read again ('dead'), or reads them at the next question ('reread')", async () => {
    const { clock, stamps, reader } = memory()
    stamps.remember('a', 5, clock.now)
    stamps.remember('b', 5, clock.now)
    const fail = () => Promise.reject(new Error('down'))
    await expect(stamps.invalidate(['a'], fail)).rejects.toThrow('down')
    await expect(stamps.invalidate(['b'], fail, 'reread')).rejects.toThrow('down')
    expect(stamps.tagStamp(['a'], reader({ a: 5 }))).toBe(Number.POSITIVE_INFINITY)
    expect(await stamps.tagStamp(['b'], reader({ b: 5 }))).toBe(5)
    clock.now += 5_000
    expect(await stamps.tagStamp(['a'], reader({ a: 5 }))).toBe(5)
  })

  it('keeps the tags of a failed invalidation dead until a read made after the failure', async () => {
    const { clock, stamps } = memory()
    const before = clock.now
    clock.now += 100
    stamps.unsure(['a'], clock.now)
    // A read that started before the failure does not revive it; one after does.
    stamps.remember('a', 7, before)
    expect(stamps.tagStamp(['a'])).toBe(Number.POSITIVE_INFINITY)
    stamps.remember('a', 7, clock.now + 1)
    expect(stamps.stampOf('a')).toBe(7)
  })

  it('recheck makes the next question read again, keeping what is known as a floor', async () => {
    const { clock, stamps, reads, reader } = memory()
    stamps.remember('a', 30, clock.now)
    stamps.remember('b', 30, clock.now)
    stamps.recheck(['a'])
    expect(await stamps.tagStamp(['a', 'b'], reader({ a: 5 }))).toBe(30)
    stamps.recheck()
    expect(stamps.tagStamp(['b'], reader({}))).toBeInstanceOf(Promise)
    expect(reads).toEqual([['a'], ['b']])
  })

  it('remembers at most maxTags, forgetting the least recently read first', () => {
    const { clock, stamps } = memory({ maxTags: 2 })
    stamps.remember('a', 1, clock.now)
    stamps.remember('b', 2, clock.now)
    stamps.remember('a', 1, clock.now)
    stamps.remember('c', 3, clock.now)
    expect(stamps.tagStamp(['a', 'c'])).toBe(3)
    expect(stamps.tagStamp(['b'], () => Promise.resolve([0]))).toBeInstanceOf(Promise)
  })

  it('joins reads in flight: one fetch per tag at a time', async () => {
    const { clock, stamps } = memory()
    let fetches = 0
    const fetch = async (fresh: string[]) => {
      fetches++
      await Promise.resolve()
      for (const tag of fresh) stamps.remember(tag, 9, clock.now)
    }
    const [one, two] = await Promise.all([stamps.join(['a', 'b'], fetch), stamps.join(['b'], fetch)])
    expect(one).toEqual([9, 9])
    expect(two).toEqual([9])
    expect(fetches).toBe(1)
    await stamps.join(['a'], fetch)
    expect(fetches).toBe(2)
  })

  it("a caller that joined another's read settles only once that read has, even when its own read failed first", async () => {
    // In Workers the two callers are two requests: giving up on the joined read at the first failure leaves that read
    // to settle later into a request that may have ended (workerd: "promise resolved from a different request context").
    const { clock, stamps } = memory()
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => (release = resolve))
    const first = stamps.join(['joined'], async (fresh) => {
      await held
      for (const tag of fresh) stamps.remember(tag, 4, clock.now)
    })
    const second = stamps.join(['joined', 'own'], () => Promise.reject(new Error('endpoint answered 500')))
    let settled = false
    const outcome = second.then(
      () => (settled = true),
      (error: unknown) => ((settled = true), error),
    )
    for (let i = 0; i < 50; i++) await Promise.resolve()
    expect(settled).toBe(false)
    release()
    expect(await first).toEqual([4])
    expect(String(await outcome)).toMatch(/endpoint answered 500/)
  })

  it('whole: a tag it does not hold was never invalidated, answered without reading; prune drops old stamps', () => {
    const { stamps } = memory({ whole: true, trustFor: Number.POSITIVE_INFINITY, maxTags: Number.POSITIVE_INFINITY })
    stamps.remember('a', 100, 0)
    stamps.remember('b', 200, 0)
    expect(stamps.tagStamp(['a', 'x'], () => Promise.reject(new Error('never read')))).toBe(100)
    stamps.prune(150)
    expect(stamps.tagStamp(['a', 'b'])).toBe(200)
    expect(stamps.stampOf('a')).toBe(0)
  })

  it('raises the current stamp only with greater finite numbers', () => {
    const { stamps } = memory()
    stamps.raise(10)
    stamps.raise(5)
    stamps.raise(Number.POSITIVE_INFINITY)
    stamps.raise(Number.NaN)
    expect(stamps.current).toBe(10)
  })
})

describe('setBounded', () => {
  it('moves a key to the end and drops the oldest past max', () => {
    const map = new Map([['a', 1], ['b', 2]])
    setBounded(map, 'a', 3, 2)
    setBounded(map, 'c', 4, 2)
    expect([...map]).toEqual([['a', 3], ['c', 4]])
  })
})
