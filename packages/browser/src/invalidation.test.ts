import { describe, expect, it } from 'vitest'
import { invalidatedUrls } from './invalidation.js'

const answer = (status: number, headers: Record<string, string> = {}): Response => new Response(null, { status, headers })

describe('invalidatedUrls (RFC 9111 §4.4)', () => {
  it('invalidates the URL and the same-origin Location and Content-Location of a non-error answer to an unsafe method', () => {
    const response = answer(201, { location: '/items/7', 'content-location': 'https://other.test/items/7' })
    expect(invalidatedUrls('POST', 'https://a.test/items', response, undefined)).toEqual(['https://a.test/items', 'https://a.test/items/7'])
    expect(invalidatedUrls('DELETE', new Request('https://a.test/items/7', { method: 'DELETE' }), answer(204), undefined)).toEqual(['https://a.test/items/7'])
  })

  it('invalidates nothing for a safe method, an error answer or a URL that does not resolve', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'TRACE']) expect(invalidatedUrls(method, 'https://a.test/', answer(200), undefined)).toEqual([])
    expect(invalidatedUrls('PUT', 'https://a.test/', answer(404), undefined)).toEqual([])
    expect(invalidatedUrls('PUT', 'https://a.test/', answer(500), undefined)).toEqual([])
    expect(invalidatedUrls('PUT', '/relative', answer(200), undefined)).toEqual([])
  })

  it("resolves a relative URL against the page's", () => {
    expect(invalidatedUrls('PATCH', '/items/7', answer(200), 'https://a.test/page')).toEqual(['https://a.test/items/7'])
  })
})
