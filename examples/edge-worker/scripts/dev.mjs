#!/usr/bin/env node
// `pnpm dev`: applies migrations/ (the products table and its seed) to the local D1 database, then serves the Worker
// with wrangler dev on http://127.0.0.1:8787, with local D1, KV and Durable Objects: no account, no credentials.
// Arguments go to wrangler dev (`pnpm dev --port 9000 --var TIERCACHE_L2:memory`); `--persist-to <dir>` goes to
// both commands, so that the server reads the database the migrations wrote.
import { spawn, spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = join(dirname(fileURLToPath(import.meta.url)), '..')
const wrangler = join(here, 'node_modules', '.bin', 'wrangler')
const args = process.argv.slice(2)

/** Removes `--name value` (or `--name=value`) from args; returns it as arguments, or [] when absent. */
function take(name) {
  const at = args.findIndex((arg) => arg === name || arg.startsWith(`${name}=`))
  if (at === -1) return []
  const taken = args[at] === name ? args.splice(at, 2) : args.splice(at, 1)
  return taken
}

const persist = take('--persist-to')
const port = take('--port')
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', WRANGLER_HIDE_BANNER: 'true', CLOUDFLARE_CF_FETCH_ENABLED: 'false' }

const migrated = spawnSync(wrangler, ['d1', 'migrations', 'apply', 'DB', '--local', ...persist], { cwd: here, env, stdio: ['ignore', 'inherit', 'inherit'] })
if (migrated.status !== 0) {
  process.stderr.write(`edge-worker: applying the D1 migrations failed (${migrated.error?.message ?? `exit code ${migrated.status}`})\n`)
  process.exit(migrated.status ?? 1)
}
const server = spawn(wrangler, ['dev', '--ip', '127.0.0.1', ...(port.length > 0 ? port : ['--port', '8787']), ...persist, ...args], {
  cwd: here,
  env,
  stdio: 'inherit',
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal))
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
