// Applies migrations/ (the products table and its seed) to the test's D1 database, as `pnpm dev` does with
// `wrangler d1 migrations apply DB --local`. Applied migrations are recorded, so running it again changes nothing.
import { applyD1Migrations } from 'cloudflare:test'
import { env } from 'cloudflare:workers'

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS)
