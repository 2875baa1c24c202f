import { describe, expect, it } from 'vitest'
import { codeBlocks, firstMissingLine } from './readme-snippets.mjs'

describe('codeBlocks', () => {
  const md = [
    '# x',
    '<!-- example: examples/a/src/one.ts -->',
    '```ts',
    "const a = 1",
    '```',
    '',
    '```sh',
    'npm test',
    '```',
    'text',
    '',
    '```ts',
    'const b = 2',
    '```',
  ].join('\n')

  it('finds TypeScript blocks with their marker, and skips shell blocks', () => {
    expect(codeBlocks('README.md', md)).toEqual([
      { readme: 'README.md', line: 3, lang: 'ts', code: 'const a = 1', example: 'examples/a/src/one.ts' },
      { readme: 'README.md', line: 12, lang: 'ts', code: 'const b = 2', example: undefined },
    ])
  })
})

describe('firstMissingLine', () => {
  const source = 'import x from "y"\n\nfunction f() {\n  const a = 1\n  return a\n}\n'
  it('accepts an excerpt whose lines appear in order (indentation aside)', () => {
    expect(firstMissingLine('const a = 1\nreturn a', source)).toBeUndefined()
  })
  it('names the first line that is missing or out of order', () => {
    expect(firstMissingLine('return a\nconst a = 1', source)).toBe('const a = 1')
    expect(firstMissingLine('const a = 2', source)).toBe('const a = 2')
  })
})
