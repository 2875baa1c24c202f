import { createStore, del, get, getMany, set } from 'idb-keyval'
import { describe, expect, it } from 'vitest'

// Probe: vitest browser mode runs this file inside real Chromium.
describe('vitest browser mode in Chromium', () => {
  it('runs in a real browser, not under a fake', () => {
    expect(navigator.userAgent).toMatch(/Chrome\//)
    expect(typeof process === 'undefined' || !('versions' in process && process.versions?.node)).toBe(true)
    expect(indexedDB.constructor.name).toBe('IDBFactory')
  })

  it('imports idb-keyval and uses the real IndexedDB', async () => {
    const store = createStore('tiercache-probe', 'entries')
    await set('k', { value: 'v', createdAt: 1 }, store)
    expect(await get('k', store)).toEqual({ value: 'v', createdAt: 1 })
    expect(await getMany(['k', 'nope'], store)).toEqual([{ value: 'v', createdAt: 1 }, undefined])
    const dbs = await indexedDB.databases()
    expect(dbs.map((d) => d.name)).toContain('tiercache-probe')
    await del('k', store)
    expect(await get('k', store)).toBeUndefined()
  })

  it('has navigator.storage.estimate()', async () => {
    const est = await navigator.storage.estimate()
    expect(typeof est.quota).toBe('number')
    expect(est.quota).toBeGreaterThan(0)
    expect(typeof est.usage).toBe('number')
  })

  it('has BroadcastChannel and structuredClone', () => {
    expect(typeof BroadcastChannel).toBe('function')
    expect(structuredClone(new Map([[1, 2]]))).toEqual(new Map([[1, 2]]))
  })
})
