/**
 * How core names what it stores. Every stored key is `namespacePrefix(namespace) + key` and every stored tag
 * `namespacePrefix(namespace) + tag`: the namespace part never contains ':' (nor a bare '%'), and the ':' that ends
 * it is there even for the empty namespace, so two caches sharing a store read and invalidate only their own
 * entries whatever their namespaces and keys (namespace 'a' + key 'b:secret' is 'a:b:secret', namespace 'a:b' +
 * key 'secret' is 'a%3Ab:secret').
 */

/**
 * The part a namespace puts before every stored key and tag: the namespace with '%' written '%25' and ':' written
 * '%3A', then ':'.
 *
 * @example
 * namespacePrefix('') // ':'
 * namespacePrefix('v2') // 'v2:'
 * namespacePrefix('a:b') // 'a%3Ab:'
 */
export function namespacePrefix(namespace: string): string {
  return `${namespace.replace(ESCAPED, escapeChar)}:`
}

const ESCAPED = /[%:]/g

function escapeChar(char: string): string {
  return char === '%' ? '%25' : '%3A'
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * The index of the first lone surrogate in `text`, or -1 when it is well-formed UTF-16. Text with a lone
 * surrogate has no UTF-8 form: Redis and URLs get U+FFFD instead, so "a\ud800" and "a\udbff" would be one key.
 */
export function loneSurrogateAt(text: string): number {
  const match = LONE_SURROGATE.exec(text)
  return match === null ? -1 : match.index
}
