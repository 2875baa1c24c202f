// The Worker's bindings in the test runner (vitest.config.ts `miniflare.bindings`).
declare namespace Cloudflare {
  interface Env {
    UPSTASH_REDIS_REST_URL: string
    UPSTASH_REDIS_REST_TOKEN: string
  }
}
