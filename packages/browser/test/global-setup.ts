// vitest globalSetup (root config, so once per run, before any browser starts): a fresh CI machine has no
// Chromium; install Debian's with apt-get (through @tiercache/testkit) when it is missing.
import { ensureChromium } from '@tiercache/testkit'

export default async function setup(): Promise<void> {
  const started = performance.now()
  const path = await ensureChromium()
  const ms = performance.now() - started
  if (ms > 1_000) console.log(`[browser tests] installed Chromium at ${path} in ${Math.round(ms / 1000)} s`)
}
