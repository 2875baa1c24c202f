// Bun and Deno, installed from npm as the packages that carry their binaries (bun -> @oven/bun-linux-x64,
// deno -> @deno/linux-x64-glibc), into the workspace's .cache so later runs reuse them.
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Installs `versions` ({ bun, deno }) into `dir` with npm when the binaries there are not those versions.
 * @param {string} dir
 * @param {Record<string, string>} versions
 * @param {NodeJS.ProcessEnv} env
 */
export function ensureRuntimes(dir, versions, env) {
  const bin = join(dir, 'node_modules', '.bin')
  const current = (name) => {
    const result = spawnSync(join(bin, name), ['--version'], { encoding: 'utf8', env })
    return result.status === 0 ? result.stdout : ''
  }
  const stale = Object.entries(versions).filter(([name, version]) => !current(name).includes(version))
  if (stale.length > 0) {
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ private: true, dependencies: versions }, null, 2)}\n`)
    const install = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: dir,
      env,
      encoding: 'utf8',
    })
    if (install.status !== 0) throw new Error(`npm install of ${stale.map(([n, v]) => `${n}@${v}`).join(' ')} failed:\n${install.stderr}`)
  }
  for (const [name, version] of Object.entries(versions)) {
    if (!current(name).includes(version)) throw new Error(`${name} ${version} does not run from ${bin}`)
  }
  return { bun: join(bin, 'bun'), deno: join(bin, 'deno') }
}

/**
 * The command lines that run a script on each runtime.
 * @param {{ bun: string, deno: string }} binaries
 * @returns {Record<string, [string, string[]]>}
 */
export function runtimeCommands(binaries) {
  return {
    [`Node ${process.versions.node}`]: [process.execPath, []],
    Bun: [binaries.bun, []],
    // Deno resolves npm packages from the project's node_modules (package.json next to it); no other network
    // than the loopback servers.
    Deno: [binaries.deno, ['run', '--allow-net=127.0.0.1', '--allow-read', '--allow-env', '--allow-sys', '--no-prompt']],
  }
}

/**
 * Runs `node|bun|deno script args` in `cwd`; resolves to the JSON lines it printed and its other output.
 * Stopped (by its pid) after `timeoutMs`.
 * @param {[string, string[]]} command
 * @param {string} script
 * @param {string[]} args
 * @param {{ cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number }} options
 */
export function runScript([cmd, flags], script, args, { cwd, env, timeoutMs }) {
  return new Promise((resolve) => {
    const child = spawn(cmd, [...flags, script, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => {
      stderr += `\n(stopped after ${timeoutMs} ms)`
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      resolve({ results: [], stderr: `${stderr}\n${error.message}`, code: null })
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      const results = []
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue
        try {
          results.push(JSON.parse(line))
        } catch {
          stderr += `\n${line}`
        }
      }
      resolve({ results, stderr, code })
    })
  })
}

