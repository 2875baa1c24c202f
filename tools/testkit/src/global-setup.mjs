// Ready-made vitest globalSetup: services once per run, handed to tests with provide/inject.
import { setupServices } from './services.mjs';

/**
 * Starts (or reuses) redis + the Upstash endpoint and provides REDIS_URL,
 * UPSTASH_TEST_URL and UPSTASH_TEST_TOKEN to tests (`inject('UPSTASH_TEST_URL')`).
 * Returns the teardown.
 * @param {{ provide: (key: string, value: unknown) => void }} project  vitest's TestProject
 * @returns {Promise<() => Promise<void>>}
 */
export default async function setup(project) {
  const services = await setupServices();
  for (const [key, value] of Object.entries(services.env)) {
    if (value !== undefined) project.provide(key, value);
  }
  return services.stop;
}
