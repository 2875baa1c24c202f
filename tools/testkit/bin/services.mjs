#!/usr/bin/env node
// Starts redis-server + the Upstash endpoint on 127.0.0.1 and prints, one per line:
//   REDIS_URL=redis://127.0.0.1:PORT
//   UPSTASH_TEST_URL=http://127.0.0.1:PORT
//   UPSTASH_TEST_TOKEN=...
//   ready
// then runs until SIGINT/SIGTERM (or stdin ends, with --exit-on-stdin-end) and stops both.
// Logs go to stderr; stdout carries only those lines.
import { parseArgs } from 'node:util';
import { setupServices } from '../src/services.mjs';

const { values } = parseArgs({
  options: {
    token: { type: 'string' },
    'redis-port': { type: 'string' },
    'upstash-port': { type: 'string' },
    'exit-on-stdin-end': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    'usage: services.mjs [--token T] [--redis-port N] [--upstash-port N] [--exit-on-stdin-end]\n' +
      'Starts redis-server and an Upstash-compatible REST endpoint on 127.0.0.1.\n',
  );
  process.exit(0);
}

/** @param {string | undefined} value @param {string} name */
function port(value, name) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    process.stderr.write(`services: --${name} must be a port number (got ${value})\n`);
    process.exit(2);
  }
  return n;
}

/** @type {import('../src/services.mjs').Services} */
let services;
try {
  services = await setupServices({
    reuse: false,
    setEnv: false,
    token: values.token,
    redisPort: port(values['redis-port'], 'redis-port'),
    upstashPort: port(values['upstash-port'], 'upstash-port'),
  });
} catch (err) {
  process.stderr.write(`services: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

const { env } = services;
process.stdout.write(
  `REDIS_URL=${env.REDIS_URL}\nUPSTASH_TEST_URL=${env.UPSTASH_TEST_URL}\nUPSTASH_TEST_TOKEN=${env.UPSTASH_TEST_TOKEN}\nready\n`,
);

let stopping = false;
async function shutdown(/** @type {string} */ why) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`[testkit] ${why}: stopping redis-server and the Upstash endpoint\n`);
  await services.stop();
  process.exit(0);
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGHUP', () => shutdown('SIGHUP'));
if (values['exit-on-stdin-end']) {
  process.stdin.on('end', () => shutdown('stdin ended'));
  process.stdin.resume();
}
