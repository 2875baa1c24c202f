// Types for the workerd test runner: its bindings (vitest.config.ts `miniflare.bindings`) and its `main` module.
declare namespace Cloudflare {
  interface Env {
    /** The shared test endpoint, also delivered as the Upstash variables a Worker reads. */
    UPSTASH_REDIS_REST_URL: string
    UPSTASH_REDIS_REST_TOKEN: string
  }
  interface GlobalProps {
    mainModule: typeof import('./fixtures/probe-worker')
  }
}
