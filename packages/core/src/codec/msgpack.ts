import { Packr } from 'msgpackr'
import type { Serializer } from './serializer.js'
import { assertStructured } from './structured-check.js'

/**
 * A MessagePack serializer on `msgpackr` (an optional peer dependency: `npm i msgpackr`): compact bytes, fast to
 * encode and decode. Gives back Date, Set, BigInt up to 64 bits, RegExp, typed arrays and ArrayBuffer, undefined,
 * NaN and Infinity (not -0). It refuses what it cannot give back (a TypeError naming the path): Maps (MessagePack
 * does not tell them from objects), cycles, larger BigInts, class instances, functions.
 *
 * @example
 * import { msgpackSerializer } from '@tiercache/core/msgpack'
 * const codec = createCodec({ serializer: msgpackSerializer() })
 */
export function msgpackSerializer(): Serializer {
  const packr = new Packr({ useRecords: false, moreTypes: true, int64AsType: 'bigint' })
  return {
    id: 'msgpack.1',
    binary: true,
    encode: (value) => packr.pack(value),
    decode: (data) => packr.unpack(data as Uint8Array),
    check: (value, name) => assertStructured(value, name, { cycles: false, bigintBits: 64, maps: false }),
  }
}
