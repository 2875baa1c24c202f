// Bindings of the Cloudflare platform tests (KV, Durable Objects, D1), merged into the runner's Env.
declare namespace Cloudflare {
  interface Env {
    /** A Workers KV namespace (miniflare's real KV), for kvStore. */
    TEST_KV: KVNamespace
    /** The TiercacheCoordinator Durable Object (exported by the main module), for durableObjectCoordinator. */
    TIERCACHE: DurableObjectNamespace
  }
}
