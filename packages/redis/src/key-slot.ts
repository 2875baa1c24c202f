/** Redis Cluster's 16384 hash slots. */
export const SLOTS = 16_384

const TABLE = (() => {
  // CRC-16/XMODEM (polynomial 0x1021, initial 0), the checksum Redis Cluster hashes keys with.
  const table = new Uint16Array(256)
  for (let i = 0; i < 256; i++) {
    let crc = i << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
    table[i] = crc
  }
  return table
})()

const encoder = new TextEncoder()

/**
 * The Cluster hash slot of a key: CRC16 of its UTF-8 bytes modulo 16384, or of its hash tag alone when it has one
 * (the text between the first `{` and the next `}`, when not empty), so that `a{user:1}` and `b{user:1}` share a slot.
 */
export function keySlot(key: string): number {
  let bytes = encoder.encode(key)
  const open = bytes.indexOf(0x7b)
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1)
    if (close > open + 1) bytes = bytes.subarray(open + 1, close)
  }
  let crc = 0
  for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ (bytes[i] as number)) & 0xff] as number)
  return crc % SLOTS
}
