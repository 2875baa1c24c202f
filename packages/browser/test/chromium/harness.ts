/**
 * Node-side harness for tests that drive Debian's Chromium with playwright-core:
 * page reloads, several pages of one origin, a local HTTP server with real cache headers.
 *
 * Test code that must run in the page is a TS entry bundled by esbuild and served as
 * `/bundle/<name>.js`; `/` (or any `pages` key) serves an HTML page that loads it.
 * Pages and API routes share one 127.0.0.1 origin, so the page can read every response
 * header without CORS. See ../HARNESS.md.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromiumLaunchOptions } from '@tiercache/testkit'
import { build } from 'esbuild'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'

export interface LaunchedChromium {
  /** The context every page of the test lives in (one profile, one origin storage). */
  context: BrowserContext
  /** Set only for `persistent: false` (a regular browser + incognito-like context). */
  browser?: Browser
  /** The tmp profile dir (persistent mode), removed by close() unless `keepUserDataDir`. */
  userDataDir?: string
  /** Wall time of the launch, ms. */
  launchMs: number
  close(): Promise<void>
}

export interface LaunchOptions {
  /**
   * true: launchPersistentContext on a tmp user-data-dir (storage is on disk, survives a
   * browser restart when `userDataDir` is reused). false: launch() + newContext() (storage
   * lives in memory for the context's lifetime, still survives page reloads).
   * @default true
   */
  persistent?: boolean
  /** Reuse a profile dir (persistent mode), e.g. to relaunch on the same storage. */
  userDataDir?: string
  /** Leave the profile dir on disk at close() (caller removes it). @default false */
  keepUserDataDir?: boolean
}

/** Launch Chromium with the TOOLCHAIN.md flags. Always call close() (afterAll). */
export async function launchChromium(options: LaunchOptions = {}): Promise<LaunchedChromium> {
  const persistent = options.persistent ?? true
  const started = performance.now()
  if (!persistent) {
    // Debian's chromium with testkit's flags (test/global-setup.ts installed it); playwright-core downloads nothing.
    const browser = await chromium.launch(chromiumLaunchOptions())
    const context = await browser.newContext()
    return {
      context,
      browser,
      launchMs: performance.now() - started,
      async close() {
        await context.close().catch(() => {})
        await browser.close()
      },
    }
  }
  const userDataDir = options.userDataDir ?? (await mkdtemp(join(tmpdir(), 'tiercache-chromium-')))
  const ownsDir = options.userDataDir === undefined && !options.keepUserDataDir
  // Never pass --user-data-dir in args: playwright rejects it; the profile dir is the first argument.
  const context = await chromium.launchPersistentContext(userDataDir, chromiumLaunchOptions())
  return {
    context,
    userDataDir,
    launchMs: performance.now() - started,
    async close() {
      await context.close()
      if (ownsDir) await rm(userDataDir, { recursive: true, force: true })
    },
  }
}

/** Bundle a TS/JS entry for the page (ESM, browser platform, everything inlined). */
export async function bundleForPage(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    sourcemap: 'inline',
    // React and the libraries on it read process.env.NODE_ENV; pages are .ts or .tsx (automatic JSX runtime).
    define: { 'process.env.NODE_ENV': '"production"' },
    jsx: 'automatic',
    logLevel: 'silent',
  })
  const file = result.outputFiles[0]
  if (!file) throw new Error(`esbuild produced no output for ${entry}`)
  return file.text
}

/** Writes the response; the return value (e.g. `res.end()`'s) is ignored, a rejection becomes a 500. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => unknown

export interface TestServerOptions {
  /** name -> entry path; served as `/bundle/<name>.js`. */
  bundles?: Record<string, string>
  /** path -> HTML. Default: `/` loads the first bundle as a module script. */
  pages?: Record<string, string>
  /** path -> handler, for API routes (`/api/...`). Matched exactly on pathname. */
  routes?: Record<string, RouteHandler>
}

export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  origin: string
  port: number
  /** Every request seen, in order (method, path with query, request headers). */
  requests: { method: string; path: string; headers: IncomingMessage['headers'] }[]
  /** Requests whose pathname starts with this prefix. */
  hits(prefix: string): number
  url(path?: string): string
  close(): Promise<void>
}

/** An HTML page that loads one bundled module and flags readiness on window. */
export function modulePage(bundleName: string, title = 'tiercache test'): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
    `<body><script type="module" src="/bundle/${bundleName}.js"></script></body></html>`
}

/** A node:http server on 127.0.0.1 and a free port, serving bundles, pages and routes. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const bundles = new Map<string, string>()
  for (const [name, entry] of Object.entries(options.bundles ?? {})) bundles.set(name, await bundleForPage(entry))
  const firstBundle = [...bundles.keys()][0]
  const pages: Record<string, string> = { ...options.pages }
  if (!pages['/'] && firstBundle) pages['/'] = modulePage(firstBundle)
  const routes = options.routes ?? {}
  const requests: TestServer['requests'] = []

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, headers: req.headers })
    void (async () => {
      const route = routes[url.pathname]
      if (route) return void (await route(req, res, url))
      const bundleName = /^\/bundle\/(.+)\.js$/.exec(url.pathname)?.[1]
      const code = bundleName === undefined ? undefined : bundles.get(bundleName)
      if (code !== undefined) {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' })
        return res.end(code)
      }
      const html = pages[url.pathname]
      if (html !== undefined) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        return res.end(html)
      }
      res.writeHead(404, { 'content-type': 'text/plain' })
      res.end('not found')
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
      res.end(String(err))
    })
  })
  // Keep-alive sockets would hold close() open; drop them when closing.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const origin = `http://127.0.0.1:${port}`
  return {
    origin,
    port,
    requests,
    hits: (prefix) => requests.filter((r) => r.path.startsWith(prefix)).length,
    url: (path = '/') => origin + path,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      }),
  }
}

export interface Harness {
  chromium: LaunchedChromium
  server: TestServer
  context: BrowserContext
  /** Open a new page (tab) at `path` of the test origin (or of another `startTestServer`) and wait for `window.__ready`. */
  open(path?: string, server?: TestServer): Promise<Page>
  close(): Promise<void>
}

/**
 * Server + Chromium in one: `const h = await createHarness({ bundles: { app: '...' } })`
 * in beforeAll, `await h.close()` in afterAll. The bundled entry should set
 * `window.__ready = true` once its API is on `window` (see pages/probe-page.ts).
 */
export async function createHarness(options: TestServerOptions & LaunchOptions = {}): Promise<Harness> {
  const server = await startTestServer(options)
  let launched: LaunchedChromium
  try {
    launched = await launchChromium(options)
  } catch (err) {
    await server.close()
    throw err
  }
  return {
    chromium: launched,
    server,
    context: launched.context,
    async open(path = '/', on = server) {
      const page = await launched.context.newPage()
      await page.goto(on.url(path))
      await page.waitForFunction(() => (globalThis as { __ready?: boolean }).__ready === true)
      return page
    },
    async close() {
      await launched.close().finally(() => server.close())
    },
  }
}
