// The helpers of the edge and browser scenarios and the Targets section: they must measure what they claim.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { test } from 'node:test'
import { createClient } from '../src/edge/http-load.mjs'
import { cpuTimeNs, descendants } from '../src/proc.mjs'
import { summarizeProfile } from '../src/profile.mjs'
import { renderTargets } from '../src/report.mjs'

/** A server on 127.0.0.1 answering each GET with its path, counting requests. */
async function pathServer() {
  let requests = 0
  const server = createServer((req, res) => {
    requests++
    res.writeHead(200, { 'content-type': 'text/plain', 'x-path': req.url ?? '' })
    res.end(req.url)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)))
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address())
  return {
    port,
    requests: () => requests,
    close: () => new Promise((resolve) => {
      server.close(() => resolve(undefined))
      server.closeAllConnections()
    }),
  }
}

test('http-load sends every path once, with at most `concurrency` in flight, and times each', async () => {
  const server = await pathServer()
  const client = createClient(server.port, 4)
  try {
    /** @type {string[]} */
    const seen = []
    const { latencies, wallMs } = await client.run({
      n: 25,
      concurrency: 4,
      pathOf: (i) => `/p/${i}`,
      check: (answer, i) => {
        assert.equal(answer.status, 200)
        assert.equal(answer.body, `/p/${i}`)
        assert.equal(answer.headers['x-path'], `/p/${i}`)
        seen.push(answer.body)
      },
    })
    assert.equal(latencies.length, 25)
    assert.ok(latencies.every((ms) => ms > 0 && ms <= wallMs))
    assert.equal(new Set(seen).size, 25)
    assert.equal(server.requests(), 25)
  } finally {
    client.close()
    await server.close()
  }
})

test('http-load stops every connection when a check fails, and rejects only once all have settled', async () => {
  const server = await pathServer()
  const client = createClient(server.port, 4)
  try {
    await assert.rejects(
      client.run({
        n: 1_000,
        concurrency: 4,
        pathOf: (i) => `/p/${i}`,
        check: (_answer, i) => {
          if (i === 10) throw new Error('wrong answer')
        },
      }),
      /wrong answer/,
    )
    const after = server.requests()
    assert.ok(after < 20, `${after} requests were sent after a failure at the 11th`)
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.equal(server.requests(), after, 'no request may follow the rejection')
  } finally {
    client.close()
    await server.close()
  }
})

test('descendants finds a child process by name, and cpuTimeNs reads its CPU time', async () => {
  // The child spins until it has used 300 ms of CPU (not of wall time: on a busy machine it gets a fraction of a
  // core), then says so and idles.
  const child = spawn(process.execPath, ['-e', 'let x = 0; while (process.cpuUsage().user < 300e3) x++; console.log("spun"); setTimeout(() => {}, 60000)'])
  try {
    await new Promise((resolve, reject) => {
      child.stdout.on('data', resolve)
      child.once('exit', (code) => reject(new Error(`the child exited (code ${code}) before it spun`)))
    })
    const pids = descendants(process.pid, (comm) => comm === 'node')
    assert.ok(pids.includes(/** @type {number} */ (child.pid)), `child ${child.pid} not in ${pids}`)
    const ns = cpuTimeNs([/** @type {number} */ (child.pid)])
    if (ns !== undefined) assert.ok(ns > 100e6, `the child spun 300 ms of CPU but shows ${ns} ns of CPU`)
    assert.equal(cpuTimeNs([]), undefined)
  } finally {
    child.kill()
  }
})

test('summarizeProfile counts builtins for their caller and leaves idle, Node internals and the bench loop out', () => {
  const frame = (/** @type {string} */ functionName, /** @type {string} */ url, lineNumber = 0) => ({ functionName, url, lineNumber })
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 5, 6, 7] },
      { id: 2, callFrame: frame('getOrSet', 'file:///repo/packages/core/dist/index.js', 9), children: [3] },
      { id: 3, callFrame: frame('set length', ''), children: [] },
      { id: 5, callFrame: frame('(idle)', ''), children: [] },
      { id: 6, callFrame: frame('loop', 'file:///repo/bench/src/harness.mjs', 1), children: [] },
      { id: 7, callFrame: frame('(garbage collector)', ''), children: [] },
    ],
    samples: [2, 3, 3, 5, 5, 5, 6, 7],
  }
  const { lines, samples } = summarizeProfile(profile, 5)
  assert.equal(samples, 4)
  assert.deepEqual(lines, [
    { name: 'getOrSet (core/dist/index.js:10)', share: 0.75 },
    { name: '(garbage collector)', share: 0.25 },
  ])
})

test('renderTargets lists every target and gives each missed one its reason', () => {
  const lines = renderTargets([
    { title: 'a', columns: [], rows: [], targets: [{ target: 'fast', measured: '1.5x', met: true }] },
    { title: 'b', columns: [], rows: [] },
    { title: 'c', columns: [], rows: [], targets: [{ target: 'small', measured: '11 KiB', met: false, reason: 'it carries the engine' }] },
  ]).join('\n')
  assert.match(lines, /\| fast \| 1\.5x \| met \|/)
  assert.match(lines, /\| small \| 11 KiB \| \*\*missed\*\* \|/)
  assert.match(lines, /- \*\*small\*\*: 11 KiB\. it carries the engine/)
  assert.doesNotMatch(lines, /- \*\*fast\*\*/)
  assert.deepEqual(renderTargets([{ title: 'x', columns: [], rows: [] }]), [])
})
