// Web Crypto digests (hex), for keys that must be short.

/** Lowercase hex SHA-256 of a string (Web Crypto, present in Workers and Node 20). */
export async function sha256Hex(text: string): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))
}

function hex(buffer: ArrayBuffer): string {
  let out = ''
  for (const byte of new Uint8Array(buffer)) out += byte.toString(16).padStart(2, '0')
  return out
}
