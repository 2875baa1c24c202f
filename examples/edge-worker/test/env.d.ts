// The Worker's bindings in the test runner (vitest.config.ts `miniflare`).
declare namespace Cloudflare {
  interface Env {
    UPSTASH_REDIS_REST_URL: string
    UPSTASH_REDIS_REST_TOKEN: string
    DB: D1Database
    TIERCACHE_KV: KVNamespace
    TIERCACHE: DurableObjectNamespace
    TEST_MIGRATIONS: import('cloudflare:test').D1Migration[]
  }
}
