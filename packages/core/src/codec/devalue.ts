import { parse, stringify } from 'devalue'
import type { Serializer } from './serializer.js'
import { assertStructured } from './structured-check.js'

/**
 * A serializer on `devalue` (an optional peer dependency: `npm i devalue`) that gives back what JSON cannot: Date,
 * Map, Set, BigInt, RegExp, typed arrays and ArrayBuffer, undefined, NaN, Infinity and -0, repeated references
 * and cycles. Class instances and functions are refused when stored (a TypeError naming the path), never turned
 * into something else. Entries are text.
 *
 * @example
 * import { devalueSerializer } from '@tiercache/core/devalue'
 * const codec = createCodec({ serializer: devalueSerializer })
 */
export const devalueSerializer: Serializer = {
  id: 'devalue.1',
  binary: false,
  encode: (value) => stringify(value),
  decode: (data) => parse(data as string),
  check: (value, name) => assertStructured(value, name, { cycles: true, bigintBits: Number.POSITIVE_INFINITY, maps: true }),
}
