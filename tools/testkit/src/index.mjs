// @tiercache/testkit: real redis-server (single and Cluster), an Upstash-compatible endpoint, memcached and
// system Chromium for tests.
export { findRedisServer, ensureRedisServer, startRedis } from './redis-server.mjs';
export { startUpstashServer } from './upstash-server.mjs';
export { startRedisCluster } from './redis-cluster.mjs';
export { findMemcached, ensureMemcached, startMemcached } from './memcached.mjs';
export { startTcpProxy } from './tcp-proxy.mjs';
export { setupServices } from './services.mjs';
export { findChromium, ensureChromium, chromiumLaunchOptions, CHROMIUM_ARGS } from './chromium.mjs';
export { getFreePort } from './system.mjs';
