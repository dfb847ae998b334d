import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { type DocBlock, extractBlocks } from './extract-blocks'

/**
 * The Markdown a reader copies code from: the root README and CONTRIBUTING, every package's and
 * app's README, and `docs/*.md`. Paths are relative to `root`, sorted.
 *
 * @example
 * const files = docFiles(repositoryRoot) // ['README.md', 'apps/demo/README.md', …]
 */
export function docFiles(root: string): string[] {
  const files = ['README.md', 'CONTRIBUTING.md'].filter((file) => existsSync(join(root, file)))
  for (const folder of ['packages', 'apps']) {
    for (const name of listDir(join(root, folder))) {
      const readme = join(folder, name, 'README.md')
      if (existsSync(join(root, readme))) files.push(readme)
    }
  }
  for (const name of listDir(join(root, 'docs'))) if (name.endsWith('.md')) files.push(join('docs', name))
  return files.sort()
}

function listDir(path: string): string[] {
  return existsSync(path) ? readdirSync(path) : []
}

/**
 * Every TypeScript block of every file `docFiles(root)` lists.
 *
 * @example
 * const blocks = collectBlocks(repositoryRoot)
 */
export function collectBlocks(root: string): DocBlock[] {
  return docFiles(root).flatMap((file) => extractBlocks(readFileSync(join(root, file), 'utf8'), file))
}

/**
 * Writes each block that is checked to its own module in `dir` (emptied first), named after its
 * file and line (`packages__express__README.md-L12.ts`), and returns each written path with its block.
 *
 * @example
 * const written = writeBlocks(collectBlocks(root), join(root, 'docs-test/blocks'))
 */
export function writeBlocks(blocks: readonly DocBlock[], dir: string): Map<string, DocBlock> {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const written = new Map<string, DocBlock>()
  for (const block of blocks) {
    if (block.mode === 'skip') continue
    const path = join(dir, `${block.file.replaceAll('/', '__')}-L${block.line}.${block.extension}`)
    writeFileSync(path, `${block.code}\n`)
    written.set(path, block)
  }
  return written
}

/** `path` relative to `root`, with forward slashes, for messages. */
export function relativePath(root: string, path: string): string {
  return relative(root, path).replaceAll('\\', '/')
}
