// Type-checking the installed packages as a user's project would: the strictest settings a user may have
// (strict, exactOptionalPropertyTypes, skipLibCheck off), under each module resolution and ambient environment.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** Compiler options every check shares. */
export const STRICTEST = {
  target: 'ES2022',
  strict: true,
  exactOptionalPropertyTypes: true,
  skipLibCheck: false,
  // TypeScript's own lib.*.d.ts only: every other declaration file (ours, @types/node, workers-types) is checked.
  skipDefaultLibCheck: true,
  noEmit: true,
  forceConsistentCasingInFileNames: true,
  // README snippets of the React adapters live in .tsx example files (the automatic runtime, react/jsx-runtime).
  jsx: 'react-jsx',
}

export const RESOLUTIONS = {
  bundler: { module: 'ESNext', moduleResolution: 'Bundler' },
  nodenext: { module: 'NodeNext', moduleResolution: 'NodeNext' },
}

/**
 * @typedef {object} Check
 * @property {string} name e.g. 'entries: bundler + DOM'
 * @property {string} resolution 'bundler' or 'nodenext'
 * @property {string[]} lib
 * @property {string[]} types
 * @property {string[]} files relative to the consumer project
 * @property {number} [count] how many public entries the files import
 */

/** A short name of an ambient environment: 'DOM', '@types/node', 'workers-types', 'DOM + @types/node'. */
export function environmentName(lib, types) {
  const parts = []
  if (lib.some((l) => l.toLowerCase() === 'dom')) parts.push('DOM')
  for (const type of types) parts.push(type === 'node' ? '@types/node' : type.replace(/^@cloudflare\/(workers-types).*$/, '$1'))
  return parts.length === 0 ? 'ES2022 only' : parts.join(' + ')
}

/**
 * Writes a tsconfig for the check into the project; returns its file name.
 * @param {string} project
 * @param {Check} check
 * @param {number} index
 */
export function writeTsconfig(project, check, index) {
  const file = `tsconfig.check-${index}.json`
  const compilerOptions = { ...STRICTEST, ...RESOLUTIONS[/** @type {'bundler' | 'nodenext'} */ (check.resolution)], lib: check.lib, types: check.types }
  writeFileSync(join(project, file), `${JSON.stringify({ compilerOptions, files: check.files }, null, 2)}\n`)
  return file
}

/**
 * The `error TS` diagnostics of tsc's output, one per error (continuation lines dropped).
 * @param {string} output
 * @returns {{ file: string, code: string, text: string }[]}
 */
export function parseDiagnostics(output) {
  const errors = []
  for (const line of output.split('\n')) {
    const match = /^(.+?)\(\d+,\d+\): error (TS\d+): (.*)$/.exec(line) ?? /^()error (TS\d+): (.*)$/.exec(line)
    if (match !== null) errors.push({ file: match[1] ?? '', code: match[2] ?? '', text: line })
  }
  return errors
}

/**
 * Runs tsc on a tsconfig; resolves to its diagnostics and raw output.
 * @param {string} project
 * @param {string} tsconfig
 */
export function runTsc(project, tsconfig) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig, '--pretty', 'false'], {
      cwd: project,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    child.on('close', (code) => {
      const errors = parseDiagnostics(output)
      // A failing tsc that printed no diagnostic we understood still counts as a failure.
      if (code !== 0 && errors.length === 0) errors.push({ file: '', code: 'tsc', text: `tsc exited ${code}: ${output.slice(-2000)}` })
      resolve({ errors, output })
    })
  })
}

/**
 * Runs `tasks` with at most `limit` at a time, in order of results.
 * @template T
 * @param {(() => Promise<T>)[]} tasks
 * @param {number} limit
 * @returns {Promise<T[]>}
 */
export async function inParallel(tasks, limit) {
  const results = new Array(tasks.length)
  let next = 0
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++
      results[i] = await /** @type {() => Promise<T>} */ (tasks[i])()
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker))
  return results
}
