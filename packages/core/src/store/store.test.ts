import { describe, expect, it } from 'vitest'
import * as main from '../index.js'
import * as store from './index.js'

describe('@tiercache/core/store', () => {
  it("carries the store author's helpers, the same functions as the main entry where both export one", () => {
    const names = Object.keys(store).sort()
    expect(names).toEqual(
      [
        'CacheError',
        'ENCODED_ENTRY_VERSION',
        'ENTRY_VERSION',
        'MAX_KEY_LENGTH',
        'MemoryStore',
        'SOFT_TAG',
        'assertKey',
        'assertSerializable',
        'assertWellFormed',
        'capEntry',
        'createEntry',
        'decodeEntry',
        'encodeEntry',
        'encodeEntryBytes',
        'estimateSize',
        'fromEnvelope',
        'isEntry',
        'lastServable',
        'namespacePrefix',
        'resolvePolicy',
        'softTags',
        'toEnvelope',
        'validateTags',
      ].sort(),
    )
    for (const name of names) if (name in main) expect(store[name as keyof typeof store]).toBe(main[name as keyof typeof main])
  })

  it("leaves the engine's internals to this subpath: the main entry does not export them", () => {
    const internals = ['capEntry', 'createEntry', 'decodeEntry', 'ENCODED_ENTRY_VERSION', 'encodeEntry', 'encodeEntryBytes', 'ENTRY_VERSION', 'fromEnvelope', 'isEntry', 'lastServable', 'MemoryStore', 'resolvePolicy', 'toEnvelope']
    expect(internals.filter((name) => name in main)).toEqual([])
    expect(internals.filter((name) => !(name in store))).toEqual([])
  })

  it('names soft records as a coordinator reads them beside the tags', () => {
    expect(store.softTags(['shop:products'])).toEqual([`${store.SOFT_TAG}shop:products`])
  })
})
