import { describe, expect, it } from 'vitest'
import { decodeEntry, ENCODED_ENTRY_VERSION, encodeEntry, encodeEntryBytes, fromEnvelope, toEnvelope, type Entry } from './entry.js'

const bytes = new Uint8Array([0, 1, 2, 10, 13, 123, 34, 255])
const entry: Entry = { value: bytes, createdAt: 1, freshUntil: 2, staleUntil: 3, tags: ['a'] }

describe('binary values in envelopes', () => {
  it('JSON text holds them as base64 under version 2; bytes as they are after the JSON header', () => {
    const text = encodeEntry(entry)
    expect(JSON.parse(text)).toMatchObject({ t: ['a'], v: ENCODED_ENTRY_VERSION, b: 1, value: 'AAECCg17Iv8=' })
    expect(decodeEntry(text)).toEqual(entry)
    const framed = encodeEntryBytes(entry) as Uint8Array
    expect(framed).toBeInstanceOf(Uint8Array)
    const header = new TextDecoder().decode(framed.subarray(0, framed.indexOf(10)))
    // Tags first, so a Redis script still finds them at the head.
    expect(header.startsWith('{"t":["a"]')).toBe(true)
    expect([...framed.subarray(framed.length - bytes.length)]).toEqual([...bytes])
    expect(decodeEntry(framed)).toEqual(entry)
    expect(decodeEntry(framed.buffer)).toEqual(entry)
    // Structured clones (IndexedDB) keep the bytes themselves.
    expect(toEnvelope(entry).value).toBe(bytes)
    expect(fromEnvelope(structuredClone(toEnvelope(entry)))).toEqual(entry)
  })

  it('an ArrayBuffer comes back as an ArrayBuffer; a value that is not binary keeps the text format', () => {
    const buffer = bytes.slice().buffer
    const back = decodeEntry(encodeEntryBytes({ ...entry, value: buffer }))
    expect(back?.value).toBeInstanceOf(ArrayBuffer)
    expect(new Uint8Array(back?.value as ArrayBuffer)).toEqual(bytes)
    expect(encodeEntryBytes({ ...entry, value: { a: 1 } })).toBe(encodeEntry({ ...entry, value: { a: 1 } }))
    // Node's Buffer is a Uint8Array; it comes back as a plain Uint8Array.
    expect(decodeEntry(encodeEntryBytes({ ...entry, value: Buffer.from('hi') }))?.value).toEqual(new Uint8Array([104, 105]))
  })

  it('anything inconsistent decodes as undefined, never as a wrong value', () => {
    const framed = encodeEntryBytes(entry) as Uint8Array
    const valid = JSON.parse(encodeEntry(entry))
    for (const bad of [
      // Framed bytes that arrived as text (a client that decoded them as UTF-8) are not the value.
      new TextDecoder().decode(framed),
      JSON.stringify({ ...valid, v: 1 }),
      JSON.stringify({ ...valid, b: 3 }),
      JSON.stringify({ ...valid, value: 'not base64!' }),
      JSON.stringify({ ...valid, value: 5 }),
      JSON.stringify({ ...valid, b: undefined, v: 2 }),
      JSON.stringify({ ...valid, x: '' }),
      new Uint8Array([...new TextEncoder().encode('{"v":2,"value":1,"b":1,"c":1,"f":2,"s":3}\n'), 1]),
      new Uint8Array([0xff, 0xfe]),
    ]) {
      expect(decodeEntry(bad)).toBeUndefined()
    }
  })
})
