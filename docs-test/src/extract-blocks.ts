import type { Code, Html, Parent, Root, RootContent } from 'mdast'
import { fromMarkdown } from 'mdast-util-from-markdown'

/** The fence languages that are TypeScript, and the file extension each is checked as. */
const typescriptLanguages: Readonly<Record<string, 'ts' | 'tsx'>> = {
  ts: 'ts',
  typescript: 'ts',
  mts: 'ts',
  tsx: 'tsx',
}

/** What the checker does with a block: type-check it, type-check and run it, or leave it (with a reason). */
export type BlockMode = 'check' | 'run' | 'skip'

/** One fenced TypeScript block of a Markdown file, as a reader would copy it. */
export interface DocBlock {
  /** The Markdown file, relative to the repository root (`packages/express/README.md`). */
  file: string
  /** 1-based line of the block's first line of code in `file`. */
  line: number
  /** 1-based column where the code starts (a fence inside a list item is indented). */
  column: number
  extension: 'ts' | 'tsx'
  code: string
  mode: BlockMode
  /** Why a `skip` block is not checked, as written in its marker. */
  skipReason?: string
  /** For a `run` block: the stdout it must print, from the `<!-- docs-test: output -->` block after it. */
  expectedOutput?: string
  /** Where an `expectedOutput` comes from (`file:line`), for failure messages. */
  expectedOutputAt?: string
}

const markerPattern = /^<!--\s*docs-test:\s*([\s\S]*?)\s*-->$/

/**
 * Every fenced TypeScript block (`ts`, `typescript`, `mts`, `tsx`) of a Markdown file, with its line.
 *
 * A block is type-checked unless an HTML comment right before it says otherwise:
 * `<!-- docs-test: run -->` also runs it against the mock upstream; `<!-- docs-test: skip <reason> -->`
 * leaves it (the reason is required); `<!-- docs-test: output -->` before a `text` block makes that block
 * the exact stdout of the `run` block before it. A marker that is misspelled, misplaced or without its
 * reason throws, naming the file and line, so nothing is left unchecked by accident.
 *
 * @example
 * const blocks = extractBlocks(readFileSync('README.md', 'utf8'), 'README.md')
 */
export function extractBlocks(markdown: string, file: string): DocBlock[] {
  const blocks: DocBlock[] = []
  function fail(line: number | undefined, problem: string): never {
    throw new Error(`${file}:${line ?? '?'}: ${problem}`)
  }

  const visit = (parent: Parent | Root): void => {
    parent.children.forEach((node: RootContent, index) => {
      if (node.type === 'html') {
        if (directiveOf(node) === undefined) return
        const next = parent.children[index + 1]
        if (next?.type !== 'code')
          fail(node.position?.start.line, 'a docs-test marker must come right before a fenced code block')
        return
      }
      if (node.type === 'code') {
        const previous = parent.children[index - 1]
        const directive = previous?.type === 'html' ? directiveOf(previous) : undefined
        const block = toBlock(node, directive)
        if (block === 'output') attachOutput(node)
        else if (block) blocks.push(block)
        return
      }
      if ('children' in node) visit(node)
    })
  }

  const toBlock = (node: Code, directive: string | undefined): DocBlock | 'output' | undefined => {
    const fenceLine = node.position?.start.line ?? 0
    const extension = typescriptLanguages[node.lang?.toLowerCase() ?? '']
    if (directive === 'output') {
      if (extension) fail(fenceLine, '`docs-test: output` marks the text block that a `run` block prints')
      return 'output'
    }
    if (!extension) {
      if (directive !== undefined)
        fail(
          fenceLine,
          `a docs-test marker on a \`${node.lang ?? 'plain'}\` block: only TypeScript blocks are checked`,
        )
      return undefined
    }
    const block: DocBlock = {
      file,
      line: fenceLine + 1,
      column: node.position?.start.column ?? 1,
      extension,
      code: node.value,
      mode: 'check',
    }
    if (directive === undefined) return block
    if (directive === 'run') return { ...block, mode: 'run' }
    const skip = /^skip\b:?\s*([\s\S]*)$/.exec(directive)
    if (skip) {
      const reason = skip[1]
      if (!reason)
        return fail(fenceLine - 1, '`docs-test: skip` needs a reason: `<!-- docs-test: skip <why> -->`')
      return { ...block, mode: 'skip', skipReason: reason }
    }
    fail(fenceLine - 1, `unknown docs-test marker '${directive}' (use run, skip <reason> or output)`)
  }

  const attachOutput = (node: Code): void => {
    const line = node.position?.start.line
    const runner = blocks.at(-1)
    if (runner?.mode !== 'run') fail(line, '`docs-test: output` must follow a `docs-test: run` block')
    if (runner.expectedOutput !== undefined) fail(line, 'a `run` block has one output block')
    runner.expectedOutput = node.value
    runner.expectedOutputAt = `${file}:${line}`
  }

  visit(fromMarkdown(markdown))
  return blocks
}

function directiveOf(node: Html): string | undefined {
  return markerPattern.exec(node.value.trim())?.[1]
}

/** `file:line`, where a block starts in its Markdown file. */
export function whereIs(block: Pick<DocBlock, 'file' | 'line'>): string {
  return `${block.file}:${block.line}`
}
