// Types for the workerd test runner: its bindings (vitest.config.ts
// `miniflare.bindings`) and its `main` module (for `exports` / ctx.exports).
declare namespace Cloudflare {
  interface Env {
    /** Same value as inject('upstashStubUrl'), delivered as a miniflare binding. */
    UPSTASH_STUB_URL: string
    UPSTASH_STUB_TOKEN: string
  }
  interface GlobalProps {
    mainModule: typeof import('./fixtures/probe-worker')
  }
}
