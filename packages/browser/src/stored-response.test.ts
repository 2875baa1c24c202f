import { describe, expect, it } from 'vitest'
import { answers, decodeBody, encodeBody, freshenHeaders, storableHeaders, varyNames, withCacheStatus, type StoredResponse } from './stored-response.js'

describe('bodies', () => {
  it('keeps valid UTF-8 as text, byte for byte (a BOM included), and anything else as base64', () => {
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x69])
    const text = encodeBody(withBom)
    expect(text.b64).toBeUndefined()
    expect([...decodeBody(text)]).toEqual([...withBom])
    const binary = new Uint8Array([0, 255, 0xc3, 0x28, 10])
    const b64 = encodeBody(binary)
    expect(b64).toEqual({ body: 'AP/DKAo=', b64: 1 })
    expect([...decodeBody(b64)]).toEqual([...binary])
  })

  it('returns a new buffer on every decode', () => {
    const stored = encodeBody(new TextEncoder().encode('x'))
    expect(decodeBody(stored)).not.toBe(decodeBody(stored))
  })
})

describe('header fields', () => {
  it('stores neither connection fields, cookies nor the framing of the encoded body (RFC 9111 §3.1)', () => {
    const fields = storableHeaders(new Headers({ 'content-type': 'text/plain', connection: 'close', 'content-encoding': 'gzip', 'content-length': '3', etag: '"1"' }))
    expect(fields).toEqual([
      ['content-type', 'text/plain'],
      ['etag', '"1"'],
    ])
  })

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

  it('lists Vary names lowercase, sorted and unique; * stays *', () => {
    expect(varyNames(new Headers({ vary: 'Accept-Language, accept, ACCEPT' }))).toEqual(['accept', 'accept-language'])
    expect(varyNames(new Headers({ vary: 'accept, *' }))).toBe('*')
    expect(varyNames(new Headers())).toEqual([])
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
