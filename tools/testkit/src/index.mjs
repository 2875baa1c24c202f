// @tiercache/testkit: real redis-server, an Upstash-compatible endpoint and system Chromium for tests.
export { findRedisServer, ensureRedisServer, startRedis } from './redis-server.mjs';
export { startUpstashServer } from './upstash-server.mjs';
export { setupServices } from './services.mjs';
export { findChromium, ensureChromium, chromiumLaunchOptions, CHROMIUM_ARGS } from './chromium.mjs';
export { getFreePort } from './system.mjs';
