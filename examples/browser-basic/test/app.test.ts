// The example's data layer under Node (fake-indexeddb, Node's fetch and BroadcastChannel) against its own server.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { startServer, type ExampleServer } from '../src/server.js'

let server: ExampleServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server?.close()
})

it('serves the page and its bundled script', async () => {
  expect(await (await fetch(`${server.origin}/`)).text()).toContain('<script type="module" src="/main.js">')
  const script = await (await fetch(`${server.origin}/main.js`)).text()
  expect(script).toContain('tiercache')
  expect(script).not.toMatch(/from\s*["']@tiercache\//) // bundled, not imported
})

it('answers from the cache, revalidates with ETag, and drops the URL after a POST', async () => {
  const app = createApp({ baseUrl: server.origin, dbName: `example-${crypto.randomUUID()}` })
  try {
    const first = await app.time()
    expect(first.cacheStatus).toMatch(/^tiercache; fwd=uri-miss; fwd-status=200; ttl=\d; stored; detail=network$/)
    const second = await app.time()
    expect(second).toMatchObject({ version: 1, time: first.time })
    expect(second.cacheStatus).toMatch(/^tiercache; hit; ttl=\d; detail=memory$/)
    expect(server.apiRequests).toHaveLength(1)

    await app.bump()
    const third = await app.time()
    expect(third.version).toBe(2)
    expect(third.cacheStatus).toMatch(/fwd=uri-miss/)
    expect(server.apiRequests.map((r) => r.method)).toEqual(['GET', 'POST', 'GET'])

    await app.forgetAll()
    expect((await app.time()).cacheStatus).toMatch(/fwd=uri-miss/)
  } finally {
    app.close()
  }
})

it("forgetAll() holds after a reload: the next page's cache does not serve what IndexedDB still holds", async () => {
  const dbName = `example-${crypto.randomUUID()}`
  const first = createApp({ baseUrl: server.origin, dbName })
  const stored = await first.time()
  expect(stored.cacheStatus).toMatch(/stored; detail=network$/)
  await first.cache.idle()
  first.close()

  // A reload: a new app (new memory tier) on the same databases is answered by IndexedDB…
  const second = createApp({ baseUrl: server.origin, dbName })
  try {
    expect(await second.time()).toMatchObject({ time: stored.time, cacheStatus: expect.stringMatching(/^tiercache; hit; ttl=\d; detail=indexeddb$/) })
    await second.forgetAll()
  } finally {
    second.close()
  }

  // …and after forgetAll() and another reload, it is not.
  const third = createApp({ baseUrl: server.origin, dbName })
  try {
    expect((await third.time()).cacheStatus).toMatch(/^tiercache; fwd=uri-miss; fwd-status=200; ttl=\d; stored; detail=network$/)
  } finally {
    third.close()
  }
})
