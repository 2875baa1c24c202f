// Redis + the Upstash endpoint together, started once per test run.
import { startRedis } from './redis-server.mjs';
import { startUpstashServer } from './upstash-server.mjs';

const ENV_KEYS = /** @type {const} */ (['REDIS_URL', 'UPSTASH_TEST_URL', 'UPSTASH_TEST_TOKEN']);

/**
 * @typedef {object} ServicesEnv
 * @property {string} [REDIS_URL]  absent only when reusing services whose parent did not set it
 * @property {string} UPSTASH_TEST_URL
 * @property {string} UPSTASH_TEST_TOKEN
 */

/**
 * @typedef {object} SetupServicesOptions
 * @property {boolean} [reuse]  reuse services announced by UPSTASH_TEST_URL/UPSTASH_TEST_TOKEN in the environment (default: true)
 * @property {boolean} [setEnv]  export the variables to process.env (restored by stop) so child processes see them (default: true)
 * @property {string} [token]  token for a new Upstash endpoint (default: random)
 * @property {number} [redisPort] (default: a free port)
 * @property {number} [upstashPort] (default: a free port)
 */

/**
 * @typedef {object} Services
 * @property {ServicesEnv} env
 * @property {boolean} reused  true when nothing was started here
 * @property {import('./redis-server.mjs').RedisServer} [redis]  only when started here
 * @property {import('./upstash-server.mjs').UpstashServer} [upstash]  only when started here
 * @property {() => Promise<void>} stop  stops what was started here (nothing when reused)
 */

/**
 * Starts redis-server and the Upstash endpoint, or reuses the ones a parent
 * process announced through UPSTASH_TEST_URL / UPSTASH_TEST_TOKEN.
 * @param {SetupServicesOptions} [options]
 * @returns {Promise<Services>}
 * @example
 * // vitest globalSetup
 * export default async function setup({ provide }) {
 *   const { env, stop } = await setupServices();
 *   provide('UPSTASH_TEST_URL', env.UPSTASH_TEST_URL);
 *   provide('UPSTASH_TEST_TOKEN', env.UPSTASH_TEST_TOKEN);
 *   return stop;
 * }
 */
export async function setupServices(options = {}) {
  const { reuse = true, setEnv = true } = options;
  if (reuse && process.env.UPSTASH_TEST_URL) {
    const token = process.env.UPSTASH_TEST_TOKEN;
    if (!token) throw new Error('UPSTASH_TEST_URL is set but UPSTASH_TEST_TOKEN is not: set both, or neither');
    /** @type {ServicesEnv} */
    const env = { UPSTASH_TEST_URL: process.env.UPSTASH_TEST_URL, UPSTASH_TEST_TOKEN: token };
    if (process.env.REDIS_URL) env.REDIS_URL = process.env.REDIS_URL;
    return { env, reused: true, stop: async () => {} };
  }

  const redis = await startRedis({ port: options.redisPort });
  /** @type {import('./upstash-server.mjs').UpstashServer} */
  let upstash;
  try {
    upstash = await startUpstashServer({ redisUrl: redis.url, token: options.token, port: options.upstashPort });
  } catch (err) {
    await redis.stop();
    throw err;
  }
  const env = { REDIS_URL: redis.url, UPSTASH_TEST_URL: upstash.url, UPSTASH_TEST_TOKEN: upstash.token };

  /** @type {Record<string, string | undefined>} */
  const previous = {};
  if (setEnv) {
    for (const key of ENV_KEYS) {
      previous[key] = process.env[key];
      process.env[key] = env[key];
    }
  }

  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      if (setEnv) {
        for (const key of ENV_KEYS) {
          // Only undo our own value: someone may have changed it since.
          if (process.env[key] !== env[key]) continue;
          if (previous[key] === undefined) delete process.env[key];
          else process.env[key] = previous[key];
        }
      }
      await upstash.stop();
      await redis.stop();
    })();
    return stopping;
  };
  return { env, reused: false, redis, upstash, stop };
}
