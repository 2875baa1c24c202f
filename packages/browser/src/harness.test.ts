import { clear, createStore, del, get, getMany, set, setMany } from 'idb-keyval'
import { describe, expect, it } from 'vitest'

// Probe: the Node project gets IndexedDB from fake-indexeddb, and idb-keyval works over it.
describe('node harness (fake-indexeddb)', () => {
  it('provides indexedDB on globalThis', () => {
    expect(typeof indexedDB.open).toBe('function')
    expect(typeof IDBKeyRange.bound).toBe('function')
  })

  it('runs idb-keyval against a custom store', async () => {
    const store = createStore('tiercache-probe', 'entries')
    await set('a', { value: 1, freshUntil: 10 }, store)
    await setMany([['b', 2], ['c', 3]], store)
    expect(await get('a', store)).toEqual({ value: 1, freshUntil: 10 })
    expect(await getMany(['a', 'b', 'missing'], store)).toEqual([{ value: 1, freshUntil: 10 }, 2, undefined])
    await del('a', store)
    expect(await get('a', store)).toBeUndefined()
    await clear(store)
    expect(await get('b', store)).toBeUndefined()
  })
})
