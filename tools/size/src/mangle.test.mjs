// The internal property names core's build renames (packages/core/internal-props.json, esbuild mangleProps in its
// tsup.config.ts): none may be a name users or other packages see, since esbuild renames a property by its name
// wherever it appears in core's dist. Run by `npm test` (node --test), against core's dist like the budgets. What this
// cannot see (a name stored or serialized, or another library's API) is for review when a name is added.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const core = fileURLToPath(new URL('../../../packages/core', import.meta.url))
const internal = JSON.parse(readFileSync(join(core, 'internal-props.json'), 'utf8'))
/** @type {string[]} */
const names = Object.values(internal).filter(Array.isArray).flat()

/** Every file under `dir` whose name passes `keep`. */
function filesOf(/** @type {string} */ dir, /** @type {(name: string) => boolean} */ keep) {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter(keep)
    .map((name) => join(dir, name))
}
const withoutComments = (/** @type {string} */ text) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')

test('internal-props.json lists each name once', () => {
  assert.deepEqual(
    names.filter((name, i) => names.indexOf(name) !== i),
    [],
  )
})

test('no renamed name is a member of a public type of core (its d.ts files)', () => {
  const found = []
  for (const file of filesOf(join(core, 'dist'), (name) => name.endsWith('.d.ts'))) {
    // A member (of an interface, class or type literal) begins a line or follows `{` or `;`, with its modifiers; a
    // parameter of the same name (after `(` or `,`) is no property.
    const members = new Set()
    const text = withoutComments(readFileSync(file, 'utf8'))
    for (const match of text.matchAll(/(?:^|[{;])\s*(?:(?:readonly|protected|private|public|static|abstract|declare|get|set)\s+)*([A-Za-z_$][\w$]*)\??\s*[:(<]/gm)) members.add(match[1])
    for (const name of names) if (members.has(name)) found.push(`${name} in ${file}`)
  }
  assert.deepEqual(found, [], 'a public type names these: take them out of packages/core/internal-props.json')
})

test('no renamed name is looked up by string in core', () => {
  const found = []
  for (const file of filesOf(join(core, 'src'), (name) => name.endsWith('.ts') && !name.includes('.test.') && !name.startsWith('test-support'))) {
    const text = withoutComments(readFileSync(file, 'utf8'))
    for (const name of names) if (new RegExp(`['"\`]${name}['"\`]`).test(text)) found.push(`${name} in ${file}`)
  }
  assert.deepEqual(found, [], "'name' in x or x['name'] keeps its name while x.name is renamed")
})

test('no renamed name is a property of a built-in', () => {
  const builtins = new Set()
  const roots = [globalThis, Object, Array, Map, Set, WeakMap, Promise, String, Number, Math, JSON, Date, Error, Uint8Array, Int32Array, Float64Array, ArrayBuffer, Symbol, Reflect, AbortController, AbortSignal, TextEncoder, TextDecoder, Function, RegExp]
  for (const value of roots) {
    for (const start of [value, value.prototype]) for (let o = start; o; o = Object.getPrototypeOf(o)) for (const key of Object.getOwnPropertyNames(o)) builtins.add(key)
  }
  assert.deepEqual(
    names.filter((name) => builtins.has(name)),
    [],
  )
})

test("core's dist holds none of them as a property: the build renamed them", () => {
  const found = []
  for (const file of filesOf(join(core, 'dist'), (name) => name.endsWith('.js'))) {
    const text = withoutComments(readFileSync(file, 'utf8'))
    for (const name of names) if (new RegExp(`\\.${name}\\b(?!')`).test(text)) found.push(`${name} in ${file}`)
  }
  assert.deepEqual(found, [], 'build core (its tsup.config.ts passes these names to esbuild as mangleProps)')
})
