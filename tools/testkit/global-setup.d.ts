// vitest globalSetup: `globalSetup: ['@tiercache/testkit/global-setup']` or a path to src/global-setup.mjs.
// Tests read the values with `inject('UPSTASH_TEST_URL')` etc.

declare module 'vitest' {
  export interface ProvidedContext {
    REDIS_URL: string;
    UPSTASH_TEST_URL: string;
    UPSTASH_TEST_TOKEN: string;
  }
}

/** Starts (or reuses) redis + the Upstash endpoint, provides their env to tests, returns the teardown. */
export default function setup(project: { provide(key: string, value: unknown): void }): Promise<() => Promise<void>>;
