/**
 * The example's server: the page, its script (bundled with esbuild on start) and /api/products?id=N, JSON with a
 * version that POST /api/products bumps (the "server changed"). `pnpm start` serves http://127.0.0.1:5175 (PORT to
 * change); open it in two tabs, reload, press the button.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const PAGE = `<!doctype html>
<html>
  <head><meta charset="utf-8"><title>tiercache + TanStack Query</title></head>
  <body>
    <h1>TanStack Query with tiercache's per-query persister</h1>
    <p>Reload: the products come from IndexedDB. POST /api/products, then press the button: every tab refetches.</p>
    <div id="root"></div>
    <script type="module" src="/main.js"></script>
  </body>
</html>`

export interface ExampleServer {
  origin: string
  /** GET /api/products requests received. */
  productRequests(): number
  /** The version the products answer with. */
  version(): number
  /** What the products answer from now on ("the server changed"). */
  bump(): void
  close(): Promise<void>
}

export async function startServer(port = 0): Promise<ExampleServer> {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./main.tsx', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    minify: true,
    write: false,
    logLevel: 'silent',
  })
  const script = bundle.outputFiles[0]?.text ?? ''
  let version = 1
  let requests = 0

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (url.pathname === '/api/products') {
      if (req.method === 'POST') {
        version++
        res.writeHead(204)
        return res.end()
      }
      requests++
      const id = Number(url.searchParams.get('id'))
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      return res.end(JSON.stringify({ id, name: `product ${id}`, version }))
    }
    if (url.pathname === '/api/notice') {
      const etag = `"n${version}"`
      const headers = { etag, 'cache-control': 'max-age=60, stale-while-revalidate=3600' }
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, headers)
        return res.end()
      }
      res.writeHead(200, { ...headers, 'content-type': 'application/json' })
      return res.end(JSON.stringify({ text: `Notice v${version}` }))
    }
    const [type, body] = url.pathname === '/main.js' ? ['text/javascript', script] : url.pathname === '/' ? ['text/html', PAGE] : ['text/plain', 'not found']
    res.writeHead(body === 'not found' ? 404 : 200, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const { port: bound } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${bound}`,
    productRequests: () => requests,
    version: () => version,
    bump: () => {
      version++
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      }),
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { origin } = await startServer(Number(process.env.PORT ?? 5175))
  console.log(`react-query example: open ${origin} in two tabs (Ctrl+C to stop)`)
}
