// A response as a cache value (stored-response.ts), inside workerd: which fields are kept, and the body codec.
import { describe, expect, it } from 'vitest'
import { bodyOf, isStoredField, storedResponse } from '../../src/stored-response'

const t = Date.UTC(2026, 11, 3, 12, 0, 0)

describe('storedResponse', () => {
  it('never stores the fields no cache stores, those Connection names, nor a cache view of the response', () => {
    const response = new Response('x', {
      headers: {
        'content-type': 'text/plain',
        connection: 'x-hop',
        'x-hop': '1',
        'keep-alive': 'timeout=5',
        'proxy-authorization': 'Basic abc',
        'set-cookie2': 'a=1',
        age: '10',
        'cache-status': 'origin; hit',
        'cf-cache-status': 'HIT',
        etag: '"v1"',
        'x-kept': 'yes',
      },
    })
    const stored = storedResponse(response, new TextEncoder().encode('x'), t, [1_000, 0, 0])
    expect(stored.h.map(([name]) => name).sort()).toEqual(['content-type', 'etag', 'x-kept'])
  })

  it("keeps the origin's caching fields in origin mode only", () => {
    for (const name of ['cache-control', 'cdn-cache-control', 'cloudflare-cdn-cache-control', 'expires', 'pragma', 'surrogate-control']) {
      expect(isStoredField(name, true)).toBe(true)
      expect(isStoredField(name, false)).toBe(false)
    }
    expect(isStoredField('set-cookie', true)).toBe(false)
    expect(isStoredField('age', true)).toBe(false)
  })

  it('stores a UTF-8 text body as text and other bodies as base64, byte-exact both ways', () => {
    const text = new TextEncoder().encode('\uFEFFhéllo')
    const json = storedResponse(new Response(text, { headers: { 'content-type': 'application/json' } }), text, t, [1, 0, 0])
    expect(json.e).toBeUndefined()
    expect(bodyOf(json)).toEqual(text)
    const bytes = new Uint8Array([0, 255, 1, 128, 10])
    const binary = storedResponse(new Response(bytes, { headers: { 'content-type': 'image/png' } }), bytes, t, [1, 0, 0])
    expect(binary).toMatchObject({ e: 'b64', b: 'AP8BgAo=' })
    expect(bodyOf(binary)).toEqual(bytes)
    // A text type whose bytes are not UTF-8 falls back to base64.
    const latin1 = storedResponse(new Response(bytes, { headers: { 'content-type': 'text/plain' } }), bytes, t, [1, 0, 0])
    expect(latin1.e).toBe('b64')
    expect(bodyOf(latin1)).toEqual(bytes)
  })
})
