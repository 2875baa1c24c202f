// Load from Node over loopback HTTP: `concurrency` keep-alive connections, each sending its next request as soon
// as the previous answer's body has been read. node:http, not fetch: undici's fetch costs 3-5x more client CPU
// per request, and on a 2-core machine that CPU is taken from the server being measured.
import http from 'node:http'

/**
 * @typedef {object} Answer
 * @property {number} status
 * @property {http.IncomingHttpHeaders} headers
 * @property {string} body
 * @property {number} ms    request written -> last body byte, in ms
 */

/** A keep-alive client for one origin (host 127.0.0.1). */
export function createClient(/** @type {number} */ port, /** @type {number} */ maxSockets) {
  const agent = new http.Agent({ keepAlive: true, maxSockets })
  /**
   * @param {string} path
   * @param {Record<string, string>} [headers]
   * @returns {Promise<Answer>}
   */
  function get(path, headers = {}) {
    return new Promise((resolve, reject) => {
      const start = performance.now()
      const req = http.get({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
        /** @type {Buffer[]} */
        const chunks = []
        res.on('data', (chunk) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - start,
          }),
        )
      })
      req.on('error', reject)
      req.setTimeout(30_000, () => req.destroy(new Error(`GET ${path}: no answer within 30 s`)))
    })
  }
  return {
    get,
    /**
     * Sends `n` GETs, `concurrency` at a time, for paths `pathOf(0 .. n-1)` in order; calls `check` on each
     * answer (throw there to fail the run).
     * @param {object} options
     * @param {number} options.n
     * @param {number} options.concurrency
     * @param {(i: number) => string} options.pathOf
     * @param {Record<string, string>} [options.headers]
     * @param {(answer: Answer, i: number) => void} [options.check]
     * @returns {Promise<{ wallMs: number, latencies: number[] }>}
     */
    async run({ n, concurrency, pathOf, headers, check }) {
      /** @type {number[]} */
      const latencies = []
      let next = 0
      const start = performance.now()
      const worker = async () => {
        try {
          while (next < n) {
            const i = next++
            const answer = await get(pathOf(i), headers)
            check?.(answer, i)
            latencies.push(answer.ms)
          }
        } catch (error) {
          next = n // the other connections stop after their current request
          throw error
        }
      }
      // Settle every connection before failing, so no request of a failed run overlaps the next one.
      const settled = await Promise.allSettled(Array.from({ length: Math.min(concurrency, n) }, worker))
      const failure = settled.find((s) => s.status === 'rejected')
      if (failure) throw /** @type {PromiseRejectedResult} */ (failure).reason
      return { wallMs: performance.now() - start, latencies }
    },
    close: () => agent.destroy(),
  }
}
