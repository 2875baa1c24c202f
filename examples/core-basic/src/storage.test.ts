import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { binaryValues, encryptedAtRest, messagePack, perTierAndSizes, reencryptAfterRotation, schemaChecks, structuredValues } from './storage.js'

describe('what is stored (README: serializers, compression, encryption, size guard, schema)', () => {
  it('devalue + compression: the other process gets the same Dates, BigInts and Maps; bytes saved are counted', async () => {
    const r = await structuredValues()
    expect(r.back?.id).toBe(42n)
    expect(r.back?.placedAt).toEqual(new Date('2026-01-02T03:04:05Z'))
    expect(r.back?.items.get('sku-1')).toBe(2)
    expect(JSON.parse(r.stored as string).x).toBe('devalue.1+gzip')
    expect(r.saved).toBeGreaterThan(1000)
  })

  it('msgpack: Dates and Sets come back', async () => {
    expect(await messagePack()).toEqual({ user: 7, since: new Date(0), roles: new Set(['admin']) })
  })

  it('encryption: ciphertext at rest, rotation, a removed key is a miss', async () => {
    const env = { CACHE_KEY_2026_06: randomBytes(32).toString('base64'), CACHE_KEY_2026_12: randomBytes(32).toString('base64') }
    const r = await encryptedAtRest(env)
    expect(r.old).toEqual({ email: 'ada@example.com' })
    expect(r.gone).toBeUndefined()
    expect(r.errors).toEqual(['DECRYPT_ERROR'])
    expect(r.stored.join('')).not.toMatch(/@example\.com/)
    expect(r.stored.map((text) => JSON.parse(text).x)).toEqual(['json.1+aes-gcm.2026-06', 'json.1+aes-gcm.2026-12'])
  })

  it('re-encryption: an entry read under the old key is written again under the current one', async () => {
    const env = { CACHE_KEY_2026_06: randomBytes(32).toString('base64'), CACHE_KEY_2026_12: randomBytes(32).toString('base64') }
    const r = await reencryptAfterRotation(env)
    expect(r.user).toEqual({ email: 'ada@example.com' })
    expect(r.reencrypted).toEqual(['user:1 in redis'])
    expect(r.stored).toEqual(['json.1+aes-gcm.2026-12'])
  })

  it('per tier and sizes: too large for one tier, still answered and kept in the other', async () => {
    const r = await perTierAndSizes()
    expect(r.answered).toBe(200_000)
    expect(r.inMemcached).toBe(false)
    expect(r.inKv).toBe(true)
    expect(r.tooLarge).toEqual(['VALUE_TOO_LARGE memcached'])
  })

  it('binary values', async () => {
    expect(await binaryValues()).toEqual(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))
  })

  it('schema: the old shape is migrated; a bad loaded value is refused', async () => {
    const r = await schemaChecks()
    expect(r.user).toEqual({ id: 7, name: { first: 'Ada', last: 'Lovelace' } })
    expect(r.refused).toBe('INVALID_VALUE')
    expect(r.invalid).toEqual([true])
  })
})
