// Values the Node-side globalSetup provides to tests (vitest `provide`/`inject`).
import 'vitest'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The shared Upstash-compatible endpoint (over a real redis-server) from @tiercache/testkit. */
    UPSTASH_TEST_URL: string
    UPSTASH_TEST_TOKEN: string
    /** Control endpoint: `POST /pairs` starts a redis + endpoint pair for one test file, `DELETE /pairs/:id` stops it. */
    SERVICES_CONTROL_URL: string
    SERVICES_CONTROL_TOKEN: string
  }
}
