// The code blocks of the READMEs a user reads (the root one and each published package's). Every TypeScript or
// JavaScript block is marked `<!-- example: path -->` and appears, line by line and in order, in that file,
// which the consumer test then type-checks against the installed tarballs.

/**
 * @typedef {object} Snippet
 * @property {string} readme the README's path, relative to the root
 * @property {number} line line of the opening fence (1-based)
 * @property {string} lang
 * @property {string} code
 * @property {string | undefined} example the marked example file, relative to the root
 */

const CODE_LANGS = new Set(['ts', 'tsx', 'typescript', 'js', 'jsx', 'javascript', 'mjs'])

/**
 * The fenced code blocks of a Markdown text in languages that compile, with the example each is marked with.
 * @param {string} readme
 * @param {string} text
 * @returns {Snippet[]}
 */
export function codeBlocks(readme, text) {
  const lines = text.split('\n')
  const blocks = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i] ?? '')
    if (open === null) continue
    const fence = open[2] ?? '```'
    const lang = (open[3] ?? '').toLowerCase()
    let end = i + 1
    while (end < lines.length && !(lines[end] ?? '').trim().startsWith(fence)) end++
    if (CODE_LANGS.has(lang)) {
      let previous = i - 1
      while (previous >= 0 && (lines[previous] ?? '').trim() === '') previous--
      const marker = /^<!--\s*example:\s*(\S+)\s*-->$/.exec((lines[previous] ?? '').trim())
      blocks.push({ readme, line: i + 1, lang, code: lines.slice(i + 1, end).join('\n'), example: marker?.[1] })
    }
    i = end
  }
  return blocks
}

/** @param {string} text */
const significantLines = (text) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')

/**
 * The first line of `code` not found, in order, in `source`; undefined when every line is there.
 * @param {string} code
 * @param {string} source
 */
export function firstMissingLine(code, source) {
  const file = significantLines(source)
  let at = 0
  for (const line of significantLines(code)) {
    const found = file.indexOf(line, at)
    if (found === -1) return line
    at = found + 1
  }
  return undefined
}
