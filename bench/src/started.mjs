// For scenarios that start things outside this process (workerd, redis-server, Chromium, HTTP servers) and
// bundle code for them with esbuild.
import { build } from 'esbuild'

/**
 * Runs `body`, handing it `stopLater(stop)` to register how to stop each thing it starts; every registered stop
 * runs at the end, the latest first, also when the body fails or the process gets SIGINT/SIGTERM (then it exits
 * with 130/143 once they ran). A failure becomes a table saying why, so the other scenarios still run.
 * @param {{ title: string, needs: string, log: (line: string) => void }} options
 * @param {(stopLater: (stop: () => unknown) => void) => Promise<import('./report.mjs').Table | import('./report.mjs').Table[]>} body
 */
export async function withStarted({ title, needs, log }, body) {
  /** @type {Array<() => unknown>} */
  const stops = []
  const stopAll = async () => {
    // Each stop is taken off the list before it runs, so a signal during the normal stop runs none twice.
    for (let stop = stops.shift(); stop; stop = stops.shift()) {
      try {
        await stop()
      } catch (error) {
        log(`  stopping: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
  }
  /** @type {Promise<void> | undefined} */
  let exiting
  const onSignal = (/** @type {NodeJS.Signals} */ signal) => {
    log(`  ${signal}: stopping what this scenario started`)
    exiting = stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    return await body((stop) => stops.unshift(stop))
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error)
    log(`  failed: ${message}`)
    return { title, columns: ['could not run'], rows: [[message.split('\n').slice(0, 3).join(' ')]], notes: [needs] }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await stopAll()
    // Interrupted: never return (the body's tables are made of errors by now); the process exits once the stops ran.
    if (exiting) await exiting
  }
}

/**
 * One entry bundled into a single ES module (es2022), returned as text.
 * @param {string} entry            absolute path
 * @param {string} workingDir       where packages are resolved from
 * @param {Pick<import('esbuild').BuildOptions, 'platform' | 'conditions' | 'mainFields'>} options
 */
export async function bundleEntry(entry, workingDir, options) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    absWorkingDir: workingDir,
    write: false,
    logLevel: 'silent',
    ...options,
  })
  const file = result.outputFiles[0]
  if (!file) throw new Error(`esbuild produced no bundle for ${entry}`)
  return file.text
}

/**
 * Starts `server` on a free port of 127.0.0.1; resolves with its origin and a close() that also ends open
 * connections (a browser's keep-alive ones would hold close() otherwise).
 * @param {import('node:http').Server} server
 * @returns {Promise<{ origin: string, close: () => Promise<void> }>}
 */
export async function listenOnLoopback(server) {
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(undefined))
  })
  const address = /** @type {import('node:net').AddressInfo} */ (server.address())
  return {
    origin: `http://127.0.0.1:${address.port}`,
    close: () =>
      /** @type {Promise<void>} */ (
        new Promise((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
      ),
  }
}
