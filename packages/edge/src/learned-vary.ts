// Learned Vary (RFC 9111 §4.1): a response whose Vary names request fields the cache key does not include is stored
// as a variant under a key that adds the values of those fields, and the URL's key holds a marker naming them. A
// lookup that finds the marker looks again under its own variant key; URLs whose responses do not vary keep the
// one-lookup path.
import { selectedValue, varyNames } from '@tiercache/core/http'
import { sha256Hex } from './digest.js'

/** What the URL's key holds when its responses vary: the request fields (lowercase, sorted) that select a variant. */
export interface VaryMarker {
  vary: string[]
}

/** Keys longer than this are replaced by their SHA-256, within core's 1024-character limit (as requestKey). */
const MAX_KEY = 512

export function isVaryMarker(value: unknown): value is VaryMarker {
  return typeof value === 'object' && value !== null && Array.isArray((value as Partial<VaryMarker>).vary)
}

/**
 * The request fields a stored response's Vary names beyond those the key already includes (`keyed`), lowercase and
 * sorted; Accept-Encoding is left out (Workers encodes bodies per client itself). Empty when it does not vary.
 */
export function learnedNames(fields: readonly (readonly [string, string])[], keyed: ReadonlySet<string>): string[] {
  const vary = fields.filter(([name]) => name === 'vary').map(([, value]) => value)
  if (vary.length === 0) return []
  const names = varyNames(vary.join(','))
  if (names === '*') throw new RangeError('Vary: * is never stored')
  return names.filter((name) => name !== 'accept-encoding' && !keyed.has(name))
}

/**
 * The key of the variant `request` selects: the URL's key (`base`), then for each name `\n<name>: <value>` (the value
 * normalized as RFC 9111 §4.1 allows: list spacing, case of case-insensitive fields) or `\n<name>` when absent. A key longer than 512 characters becomes `<prefix>#v<sha-256>`.
 */
export function variantKey(base: string, names: readonly string[], request: Request, prefix: string): string | Promise<string> {
  let key = `${base}\n~vary`
  for (const name of names) {
    const value = selectedValue(request.headers, name)
    key += value === null ? `\n${name}` : `\n${name}: ${value}`
  }
  if (key.length <= MAX_KEY) return key
  return sha256Hex(key).then((digest) => `${prefix}#v${digest}`)
}

/** Whether two sorted name lists are the same. */
export function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i])
}
