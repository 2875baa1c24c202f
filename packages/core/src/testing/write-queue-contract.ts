import { afterAll, describe, expect, it } from 'vitest'
import type { QueuedWrite, WriteQueue, WriteRecord } from '../write-behind/types.js'

export interface WriteQueueContractOptions {
  /** Suite title. */
  name: string
  /** A new, empty queue for each test (give each its own stream, key prefix or database). */
  create: () => WriteQueue | Promise<WriteQueue>
  /** Called after the suite with every queue it created. */
  cleanup?: (queues: WriteQueue[]) => void | Promise<void>
}

/**
 * The behaviour every write-behind queue must have, as a vitest suite: records come out as they went in, each
 * delivery is leased to one taker, retries wait for their time, dead letters are kept and can be redriven.
 *
 * @example
 * runWriteQueueContract({ name: 'memoryWriteQueue', create: () => memoryWriteQueue() })
 */
export function runWriteQueueContract(options: WriteQueueContractOptions): void {
  const created: WriteQueue[] = []
  const T = 1_700_000_000_000

  async function queue(): Promise<WriteQueue> {
    const q = await options.create()
    created.push(q)
    return q
  }

  function record(key: string, version: number, value: unknown = { v: version }): WriteRecord {
    return { key, op: 'set', value, version, writtenAt: T, attempts: 0 }
  }

  describe(`write queue contract: ${options.name}`, () => {
    afterAll(async () => {
      await options.cleanup?.(created)
    })

    it('hands out what was added, fields intact, in order', async () => {
      const q = await queue()
      const records: WriteRecord[] = [
        record('a', 1, { items: ['x', 'ü 👋'], n: -1.5, none: null }),
        { key: 'b', op: 'delete', version: 2, writtenAt: T + 1, attempts: 0 },
        record('c', 3, 'plain'),
      ]
      await q.add(records)
      expect(await q.size()).toBe(3)
      const taken = await q.take(10, T)
      expect(taken.map(({ id: _id, ...rest }) => rest)).toEqual(records)
      expect(new Set(taken.map((r) => r.id)).size).toBe(3)
    })

    it('takes at most max, and never hands a leased record out again', async () => {
      const q = await queue()
      await q.add(Array.from({ length: 5 }, (_, i) => record(`k${i}`, i + 1)))
      const first = await q.take(3, T)
      const second = await q.take(3, T)
      expect(first.map((r) => r.key)).toEqual(['k0', 'k1', 'k2'])
      expect(second.map((r) => r.key)).toEqual(['k3', 'k4'])
      expect(await q.take(3, T)).toEqual([])
      expect(await q.size()).toBe(5)
      await q.ack([...first, ...second])
      expect(await q.size()).toBe(0)
    })

    it('holds a retried record until its time, with the attempts it was given', async () => {
      const q = await queue()
      await q.add([record('a', 1)])
      const [taken] = await q.take(1, T)
      expect(taken).toBeDefined()
      await q.retry({ ...(taken as NonNullable<typeof taken>), attempts: 1 }, T + 5_000)
      expect(await q.size()).toBe(1)
      expect(await q.take(10, T + 4_999)).toEqual([])
      const again = await q.take(10, T + 5_000)
      expect(again.map((r) => [r.key, r.attempts, r.version])).toEqual([['a', 1, 1]])
      await q.ack(again)
      expect(await q.size()).toBe(0)
    })

    it('keeps dead letters with their error, apart from the queue, and redrives them with attempts reset', async () => {
      const q = await queue()
      await q.add([record('poison', 7), record('fine', 8)])
      const [poison, fine] = await q.take(10, T)
      await q.deadLetter({ ...(poison as NonNullable<typeof poison>), attempts: 3 }, 'constraint violated', T + 10)
      await q.ack([fine as NonNullable<typeof fine>])
      expect(await q.size()).toBe(0)
      const dead = await q.deadLetters()
      expect(dead).toEqual([{ record: { ...record('poison', 7), attempts: 3 }, error: 'constraint violated', at: T + 10 }])
      expect(await q.redrive(T + 20)).toBe(1)
      expect(await q.deadLetters()).toEqual([])
      const back = await q.take(10, T + 20)
      expect(back.map((r) => [r.key, r.attempts])).toEqual([['poison', 0]])
    })

    it('with addVersioned, gives each record a greater version than the last, kept through retry, dead letter, redrive', async () => {
      const q = await queue()
      // Without it, the writer's clock versions the records (createWriteBehind); nothing of the queue's to check.
      if (q.addVersioned === undefined) return
      const first = await q.addVersioned([record('a', 0), record('b', 0)])
      const [second] = await q.addVersioned([record('a', 0)])
      const versions = [...first, second as number]
      expect(versions).toHaveLength(3)
      for (const [i, version] of versions.entries()) {
        expect(Number.isSafeInteger(version) && version > 1e12).toBe(true) // an integer reading as rough epoch ms
        if (i > 0) expect(version).toBeGreaterThan(versions[i - 1] as number)
      }
      const taken = await q.take(10, T)
      expect(taken.map((r) => [r.key, r.version])).toEqual([
        ['a', versions[0]],
        ['b', versions[1]],
        ['a', versions[2]],
      ])
      const [a1, b, a2] = taken as [QueuedWrite, QueuedWrite, QueuedWrite]
      await q.retry({ ...a1, attempts: 1 }, T + 1)
      await q.deadLetter({ ...b, attempts: 3 }, 'constraint violated', T)
      await q.ack([a2])
      const retried = await q.take(10, T + 1)
      expect(retried.map((r) => [r.key, r.version])).toEqual([['a', versions[0]]])
      await q.ack(retried)
      expect((await q.deadLetters()).map((d) => d.record.version)).toEqual([versions[1]])
      await q.redrive(T)
      const back = await q.take(10, T)
      expect(back.map((r) => [r.key, r.version])).toEqual([['b', versions[1]]])
      await q.ack(back)
    })

    it('says whether it survives a crash', async () => {
      const q = await queue()
      expect(typeof q.durable).toBe('boolean')
      expect(q.name.length).toBeGreaterThan(0)
    })
  })
}
