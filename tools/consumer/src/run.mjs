#!/usr/bin/env node
// The consumer test: the published packages as a user gets them. Packs every non-private package under
// packages/, installs the tarballs with npm into a new project outside the workspace, type-checks every public
// entry and every README snippet under the strictest settings a user may have, runs the same smoke scripts on
// Node, Bun and Deno, and prints what it found. Exits non-zero on any type error or failed feature.
//
//   node tools/consumer/src/run.mjs [--no-build] [--keep]
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnSync } from 'node:child_process'
import { startOrigin } from './origin.mjs'
import { codeBlocks, firstMissingLine } from './readme-snippets.mjs'
import { ensureRuntimes, runScript, runtimeCommands } from './runtimes.mjs'
import { formatTable, kilobytes } from './table.mjs'
import { packageProblems } from './package-checks.mjs'
import { pack, tarballSummary } from './tarball.mjs'
import { environmentName, inParallel, runTsc, writeTsconfig } from './typecheck.mjs'
import { packageEnvironment, publishedPackages, readJson } from './workspace.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..', '..')
const fixture = join(here, '..', 'fixture')
const flags = new Set(process.argv.slice(2))
const env = { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DO_NOT_TRACK: '1', npm_config_update_notifier: 'false' }
const started = Date.now()
const failures = []

function log(message) {
  process.stderr.write(`[consumer ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`)
}

function must(cmd, args, options) {
  const result = spawnSync(cmd, args, { env, encoding: 'utf8', ...options })
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`)
  return result.stdout
}

// 1. What is published, built as CI builds it.
const packages = publishedPackages(root)
if (packages.length === 0) throw new Error('no published package under packages/')
if (!flags.has('--no-build')) {
  log(`building ${packages.map((p) => p.name).join(', ')}`)
  must('pnpm', ['exec', 'turbo', 'run', 'build', ...packages.map((p) => `--filter=${p.name}`), '--output-logs=errors-only'], { cwd: root })
}

// 2. Pack them.
const project = mkdtempSync(join(tmpdir(), 'tiercache-consumer-'))
// Removed however the run ends (a failed install throws), unless asked to keep it.
process.on('exit', () => {
  if (flags.has('--keep')) log(`kept ${project}`)
  else rmSync(project, { recursive: true, force: true })
})
const tarballDir = join(project, 'tarballs')
mkdirSync(tarballDir)
const packed = packages.map((p) => {
  const tarball = pack(p.dir, tarballDir, env)
  return { ...p, tarball, summary: tarballSummary(tarball) }
})
log(`packed ${packed.length} packages into ${tarballDir}`)

// 3. README snippets: each marked with the example file that holds it.
const readmes = ['README.md', ...packages.map((p) => relative(root, join(p.dir, 'README.md')))].filter((file) => existsSync(join(root, file)))
const snippets = readmes.flatMap((file) => codeBlocks(file, readFileSync(join(root, file), 'utf8')))
const exampleFiles = new Set()
for (const snippet of snippets) {
  const where = `${snippet.readme}:${snippet.line}`
  if (snippet.example === undefined) {
    failures.push(`${where}: a \`\`\`${snippet.lang} block without <!-- example: path --> (move it into an example file and mark it)`)
    continue
  }
  const file = join(root, snippet.example)
  if (!snippet.example.startsWith('examples/') || !existsSync(file)) {
    failures.push(`${where}: the marked example ${snippet.example} is not a file under examples/`)
    continue
  }
  const missing = firstMissingLine(snippet.code, readFileSync(file, 'utf8'))
  if (missing !== undefined) failures.push(`${where}: this line is not in ${snippet.example} (in order): ${missing}`)
  exampleFiles.add(snippet.example)
}

// 4. The consumer project: the tarballs, the peers at the versions the packages are tested with, the examples'
// own dependencies, and the type packages of each environment.
const rootManifest = readJson(join(root, 'package.json'))
const versions = readJson(join(fixture, 'versions.json'))
const devVersion = (name) => {
  for (const p of packages) {
    const v = p.manifest.devDependencies?.[name]
    if (typeof v === 'string' && !v.startsWith('workspace:')) return v
  }
  throw new Error(`no published package pins ${name} in its devDependencies`)
}
const dependencies = {
  typescript: rootManifest.devDependencies.typescript,
  '@types/node': devVersion('@types/node'),
  '@cloudflare/workers-types': devVersion('@cloudflare/workers-types'),
  ...versions.consumer,
}
for (const p of packed) Object.assign(dependencies, p.peers)
const examples = [...new Set([...exampleFiles].map((file) => file.split('/').slice(0, 2).join('/')))].sort()
for (const example of examples) {
  const manifest = readJson(join(root, example, 'package.json'))
  const types = Object.entries(manifest.devDependencies ?? {}).filter(([name]) => name.startsWith('@types/'))
  for (const [name, version] of [...Object.entries(manifest.dependencies ?? {}), ...types]) {
    if (!String(version).startsWith('workspace:')) dependencies[name] ??= version
  }
  // The example's source as a user would copy it, next to the installed packages.
  cpSync(join(root, example), join(project, example), {
    recursive: true,
    filter: (src) => !/[/\\](node_modules|dist|\.turbo|\.wrangler)$/.test(src),
  })
}
const tarballs = Object.fromEntries(packed.map((p) => [p.name, `file:./tarballs/${basename(p.tarball)}`]))
writeFileSync(
  join(project, 'package.json'),
  `${JSON.stringify({ name: 'tiercache-consumer', private: true, type: 'module', dependencies: { ...tarballs, ...dependencies }, overrides: tarballs }, null, 2)}\n`,
)
log(`npm install in ${project}`)
must('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: project })

// What every tarball must carry (read from what npm installed).
const rootLicense = readFileSync(join(root, 'LICENSE'), 'utf8')
for (const p of packed) {
  const installedLicense = join(project, 'node_modules', ...p.name.split('/'), 'LICENSE')
  const problems = packageProblems(p, p.summary, {
    license: rootLicense,
    engines: rootManifest.engines,
    folder: relative(root, p.dir).split(/[\\/]/).join('/'),
    licenseText: existsSync(installedLicense) ? readFileSync(installedLicense, 'utf8') : undefined,
  })
  for (const problem of problems) failures.push(`${p.name}: ${problem}`)
}

// 5. Type checks.
const ENVIRONMENTS = [
  { id: 'dom', name: 'bundler + DOM', resolution: 'bundler', lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [], for: (e) => e.dom || !e.node },
  { id: 'node', name: 'nodenext + @types/node', resolution: 'nodenext', lib: ['ES2022'], types: ['node'], for: () => true },
  { id: 'workers', name: 'bundler + workers-types', resolution: 'bundler', lib: ['ES2022'], types: ['@cloudflare/workers-types/latest'], for: (e) => !e.dom && !e.node },
]
const entries = packed.flatMap((p) => p.entries)
mkdirSync(join(project, 'types'))
writeFileSync(
  join(project, 'types', 'require.cts'),
  `// Every public entry through require(): what nodenext accepts here must load at run time (the smoke test requires them).\n${entries.map((e, i) => `import r${i} = require('${e}')`).join('\n')}\nconst entries = [${entries.map((_, i) => `r${i}`).join(', ')}]\nexport = entries\n`,
)
/** @type {import('./typecheck.mjs').Check[]} */
const checks = []
for (const environment of ENVIRONMENTS) {
  // Each package is checked in the environments it is written for (its tsconfig's lib and types): a package
  // built with DOM is not for Workers, one built with @types/node is for Node (edge builds with workers-types
  // but only through structural types, so it is checked everywhere).
  const targeted = packed.filter((p) => environment.for(packageEnvironment(p.dir)))
  const ids = targeted.flatMap((p) => p.entries.map((entry) => [entry, entries.indexOf(entry)]))
  const file = `types/entries-${environment.id}.ts`
  writeFileSync(
    join(project, file),
    `// The public entries of the packages meant for ${environment.name}.\n${ids.map(([e, i]) => `import * as e${i} from '${e}'`).join('\n')}\nexport const entries = [${ids.map(([, i]) => `e${i}`).join(', ')}] as const\n`,
  )
  const files = environment.id === 'node' ? [file, 'types/require.cts'] : [file]
  checks.push({ name: 'entries', resolution: environment.resolution, lib: environment.lib, types: environment.types, files, count: ids.length })
}
// Snippets: in the ambient environment their example is written for (its tsconfig's lib and types), under both
// resolutions.
const groups = new Map()
for (const file of [...exampleFiles].sort()) {
  const options = readJson(nearestTsconfig(file)).compilerOptions ?? {}
  const lib = options.lib ?? ['ES2022']
  const types = options.types ?? []
  const key = JSON.stringify([lib, types])
  groups.set(key, { lib, types, files: [...(groups.get(key)?.files ?? []), file] })
}
for (const { lib, types, files } of groups.values()) {
  for (const resolution of ['bundler', 'nodenext']) checks.push({ name: 'README snippets', resolution, lib, types, files })
}
// One tsc run per distinct configuration (each run checks its libraries again: the costly part).
const configurations = new Map()
for (const check of checks) {
  const key = JSON.stringify([check.resolution, check.lib, check.types])
  const merged = configurations.get(key) ?? { ...check, files: [], what: [] }
  merged.files.push(...check.files.filter((file) => !merged.files.includes(file)))
  merged.what.push(check.name === 'entries' ? `${check.count} entries${check.files.length > 1 ? ' + require()' : ''}` : `${check.files.length} snippet files`)
  configurations.set(key, merged)
}
const configs = [...configurations.values()]
log(`type-checking (${configs.length} configurations)`)
const typeResults = await inParallel(
  configs.map((config, i) => () => runTsc(project, writeTsconfig(project, config, i))),
  2,
)
const typeRows = configs.map((config, i) => {
  const errors = typeResults[i].errors
  const environment = environmentName(config.lib, config.types)
  for (const error of errors) failures.push(`type error (${config.resolution}, ${environment}): ${error.text}`)
  return [config.resolution, environment, config.what.join(', '), String(errors.length)]
})

/** The tsconfig.json that governs an example file: the nearest one up to its example's folder. */
function nearestTsconfig(file) {
  const top = join(root, file.split('/').slice(0, 2).join('/'))
  for (let dir = dirname(join(root, file)); dir.startsWith(top); dir = dirname(dir)) {
    if (existsSync(join(dir, 'tsconfig.json'))) return join(dir, 'tsconfig.json')
  }
  throw new Error(`no tsconfig.json for ${file} in ${top}`)
}

// 6. The same smoke scripts on every runtime.
log('installing Bun and Deno (npm cache)')
const binaries = ensureRuntimes(join(root, '.cache', 'consumer', 'runtimes'), versions.runtimes, env)
cpSync(join(fixture, 'smoke'), join(project, 'smoke'), { recursive: true })
const origin = await startOrigin()
const runtimeEnv = { ...env, DENO_DIR: join(root, '.cache', 'consumer', 'deno-dir') }
const runs = {}
try {
  for (const [runtime, command] of Object.entries(runtimeCommands(binaries))) {
    log(`smoke on ${runtime}`)
    runs[runtime] = await runScript(command, 'smoke/main.mjs', [origin.url, entries.join(',')], { cwd: project, env: runtimeEnv, timeoutMs: 120_000 })
  }
} finally {
  await origin.close()
}
const features = [...new Set(Object.values(runs).flatMap((run) => run.results.map((r) => r.feature)))]
const runtimeRows = Object.entries(runs).map(([runtime, run]) => {
  const version = run.results[0]?.runtime ?? runtime
  if (run.results.length === 0) failures.push(`${runtime}: no result (exit ${run.code}):\n${run.stderr.slice(-3000)}`)
  return [
    version,
    ...features.map((feature) => {
      const result = run.results.find((r) => r.feature === feature)
      if (result === undefined) {
        failures.push(`${runtime}: ${feature} did not report (exit ${run.code}): ${run.stderr.slice(-1500)}`)
        return 'MISSING'
      }
      if (!result.ok) failures.push(`${version}: ${feature}: ${result.detail}`)
      return result.ok ? `ok (${result.ms} ms)` : 'FAIL'
    }),
  ]
})

// 7. Report.
const sizeRows = packed.map((p) => [
  p.name,
  kilobytes(p.summary.packed),
  kilobytes(p.summary.unpacked),
  `${Math.round((100 * p.summary.maps) / Math.max(1, p.summary.unpacked))}%`,
  String(p.summary.files.length),
  ['LICENSE', 'README.md'].filter((f) => !p.summary.files.some((file) => file.path === f)).join(', ') || '-',
])
const out = [
  '',
  'Tarballs (pnpm pack):',
  formatTable(['package', 'packed', 'unpacked', 'source maps', 'files', 'missing'], sizeRows),
  '',
  'Type checks (strict, exactOptionalPropertyTypes, skipLibCheck false; tsc ' + readJson(join(project, 'node_modules', 'typescript', 'package.json')).version + '):',
  formatTable(['resolution', 'environment', 'checked', 'errors'], typeRows),
  '',
  'Runtime x feature (installed tarballs, smoke/main.mjs):',
  formatTable(['runtime', ...features], runtimeRows),
  '',
]
process.stdout.write(`${out.join('\n')}\n`)
if (failures.length > 0) {
  process.stdout.write(`Problems (${failures.length}):\n${failures.map((f) => `- ${f}`).join('\n')}\n`)
}
log(`${failures.length === 0 ? 'consumer test passed' : `consumer test FAILED (${failures.length} problems)`} in ${((Date.now() - started) / 1000).toFixed(0)} s`)
process.exit(failures.length === 0 ? 0 : 1)
