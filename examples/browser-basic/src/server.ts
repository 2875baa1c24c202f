/**
 * A tiny server for the example: the page, its script (bundled with esbuild on start) and /api/time, which
 * sends real caching headers: fresh for 5 s, then stale-while-revalidate for 30 s, with an ETag (304s).
 * `pnpm start` serves it on http://127.0.0.1:5174 (PORT to change).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const PAGE = `<!doctype html>
<html>
  <head><meta charset="utf-8"><title>tiercache browser-basic</title></head>
  <body>
    <h1>tiercache in the browser</h1>
    <p>Open this page in two tabs. <code>/api/time</code> is fresh for 5 s, then served stale for 30 s while it revalidates.</p>
    <button id="time">GET /api/time</button>
    <button id="bump">POST /api/time</button>
    <button id="forget">invalidateTags(['api'])</button>
    <pre id="out"></pre>
    <script type="module" src="/main.js"></script>
  </body>
</html>`

export interface ExampleServer {
  origin: string
  /** Requests /api/time received, with the If-None-Match each carried. */
  apiRequests: { method: string; ifNoneMatch: string | undefined }[]
  close(): Promise<void>
}

/** Bundles the page script and listens on 127.0.0.1. */
export async function startServer(port = 0): Promise<ExampleServer> {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./main.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  const script = bundle.outputFiles[0]?.text ?? ''
  let version = 1
  const apiRequests: ExampleServer['apiRequests'] = []

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname
    if (path === '/api/time') {
      apiRequests.push({ method: req.method ?? 'GET', ifNoneMatch: req.headers['if-none-match'] })
      if (req.method === 'POST') {
        version++
        res.writeHead(204)
        return res.end()
      }
      const etag = `"v${version}"`
      const headers = { etag, 'cache-control': 'max-age=5, stale-while-revalidate=30' }
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, headers)
        return res.end()
      }
      res.writeHead(200, { ...headers, 'content-type': 'application/json' })
      return res.end(JSON.stringify({ version, time: new Date().toISOString() }))
    }
    const [type, body] = path === '/main.js' ? ['text/javascript', script] : path === '/' ? ['text/html', PAGE] : ['text/plain', 'not found']
    res.writeHead(body === 'not found' ? 404 : 200, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const { port: bound } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${bound}`,
    apiRequests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      }),
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { origin } = await startServer(Number(process.env.PORT ?? 5174))
  console.log(`browser-basic: open ${origin} in two tabs (Ctrl+C to stop)`)
}
