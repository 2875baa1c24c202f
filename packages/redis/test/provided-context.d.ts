// Values the testkit global setup provides to tests (vitest provide/inject).
import 'vitest'

declare module 'vitest' {
  export interface ProvidedContext {
    /** redis://127.0.0.1:PORT of the run's redis-server. */
    REDIS_URL: string
    /** The Upstash-compatible endpoint over that same redis-server. */
    UPSTASH_TEST_URL: string
    UPSTASH_TEST_TOKEN: string
  }
}
