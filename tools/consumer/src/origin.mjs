// The origin the cached-fetch smoke test revalidates against: GET /etag/<id> answers 200 with an ETag and
// `Cache-Control: no-cache` (stored, but revalidated on every use), 304 to a matching If-None-Match;
// GET /etag/<id>?stats tells what it saw for that id. Bound to 127.0.0.1 on a free port.
import { createServer } from 'node:http'

/** Starts the origin; resolves to `{ url, close() }`. */
export async function startOrigin() {
  const seen = new Map()
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const match = /^\/etag\/([\w-]+)$/.exec(url.pathname)
    if (req.method !== 'GET' || match === null) {
      res.writeHead(404).end()
      return
    }
    const id = match[1]
    const counts = seen.get(id) ?? { requests: 0, conditional: 0, notModified: 0 }
    seen.set(id, counts)
    if (url.searchParams.has('stats')) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(counts))
      return
    }
    counts.requests++
    const etag = `"${id}-v1"`
    if (req.headers['if-none-match'] !== undefined) counts.conditional++
    if (req.headers['if-none-match'] === etag) {
      counts.notModified++
      res.writeHead(304, { etag, 'cache-control': 'no-cache' }).end()
      return
    }
    res.writeHead(200, { etag, 'cache-control': 'no-cache', 'content-type': 'text/plain' }).end(`body of ${id}`)
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(undefined))
  })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve(undefined))
      }),
  }
}
