// Values the testkit global setup provides to tests (vitest provide/inject).
import 'vitest'

declare module 'vitest' {
  export interface ProvidedContext {
    REDIS_URL: string
    UPSTASH_TEST_URL: string
    UPSTASH_TEST_TOKEN: string
  }
}
