/** A rough byte count of a value: 2 bytes per string character, 8 per number (and anything else), plus per-object overhead. */
export function estimateSize(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return 16 + value.length * 2
    case 'boolean':
      return 4
    case 'object': {
      if (value === null) return 0
      let size = 32
      if (Array.isArray(value)) {
        for (const item of value) size += 8 + estimateSize(item)
      } else {
        for (const key in value) size += 16 + key.length * 2 + estimateSize((value as Record<string, unknown>)[key])
      }
      return size
    }
    default:
      return 8
  }
}
