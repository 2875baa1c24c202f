import { describe, expect, it } from 'vitest'
import { answers, freshenHeaders, withCacheStatus, type StoredResponse } from './stored-response.js'

describe('header fields', () => {
  it('updates stored fields from a 304, except Content-Length (§3.2)', () => {
    const merged = freshenHeaders(
      [
        ['cache-control', 'max-age=1'],
        ['content-type', 'text/plain'],
      ],
      new Headers({ 'cache-control': 'max-age=60', 'content-length': '0', 'x-new': 'yes' }),
    )
    expect(Object.fromEntries(merged)).toEqual({ 'cache-control': 'max-age=60', 'content-type': 'text/plain', 'x-new': 'yes' })
  })

  it("takes no field from a 304 that is never stored: core's set, proxy authentication included (§3.1)", () => {
    // The browser's own list lacked Proxy-Authenticate and Proxy-Authorization; core's NEVER_STORED has them.
    const merged = freshenHeaders([['etag', '"1"']], new Headers({ 'proxy-authenticate': 'Basic', 'proxy-authorization': 'Basic x', connection: 'x-hop', 'x-hop': '1', 'x-new': 'yes' }))
    expect(Object.fromEntries(merged)).toEqual({ etag: '"1"', 'x-new': 'yes' })
  })

  it('matches a request by URL and the Vary-selected values, whitespace normalized (§4.1)', () => {
    const stored = { url: 'https://x/a', vary: { 'accept-language': 'en us', 'x-absent': null } } as unknown as StoredResponse
    expect(answers(stored, 'https://x/a', new Headers({ 'accept-language': ' en   us ' }))).toBe(true)
    expect(answers(stored, 'https://x/a', new Headers({ 'accept-language': 'en us', 'x-absent': '1' }))).toBe(false)
    expect(answers(stored, 'https://x/b', new Headers({ 'accept-language': 'en us' }))).toBe(false)
  })
})

describe('withCacheStatus', () => {
  it('adds the member around the same body, and leaves responses it cannot rebuild alone', async () => {
    const res = withCacheStatus(new Response('body', { status: 201, headers: { 'cache-status': 'cdn; hit' } }), 'tiercache; fwd=uri-miss')
    expect(res.status).toBe(201)
    expect(res.headers.get('cache-status')).toBe('cdn; hit, tiercache; fwd=uri-miss')
    expect(await res.text()).toBe('body')
    const error = Response.error()
    expect(withCacheStatus(error, 'x')).toBe(error)
    expect(withCacheStatus(new Response(null, { status: 204 }), 'x').status).toBe(204)
  })
})
