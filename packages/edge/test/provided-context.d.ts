// Values the Node-side globalSetup provides to tests (vitest `provide`/`inject`).
import 'vitest'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the loopback stand-in for the Upstash REST endpoint. */
    upstashStubUrl: string
    /** Bearer token the stand-in expects. */
    upstashStubToken: string
  }
}
