// The README's TypeScript blocks are the code that runs: each is marked `<!-- example: path -->` and appears, line by
// line and in order, in that file (the rule tools/consumer applies to the root and package READMEs).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { codeBlocks, firstMissingLine } from '../../../tools/consumer/src/readme-snippets.mjs'

const root = new URL('../../../', import.meta.url).pathname
const readme = 'examples/hono-worker/README.md'
const blocks = codeBlocks(readme, readFileSync(join(root, readme), 'utf8'))

describe('examples/hono-worker/README.md', () => {
  it('has TypeScript blocks, every one marked with an example file of this demo', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4)
    expect(blocks.filter((block) => !block.example?.startsWith('examples/hono-worker/')).map((block) => `${block.readme}:${block.line}`)).toEqual([])
  })

  it.each(blocks.map((block) => [`${block.readme}:${block.line}`, block] as const))('%s appears in its file', (_, block) => {
    expect(firstMissingLine(block.code, readFileSync(join(root, block.example ?? ''), 'utf8'))).toBeUndefined()
  })
})
