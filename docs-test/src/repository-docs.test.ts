import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { collectBlocks, docFiles, writeBlocks } from './collect-blocks'
import { type DocBlock, whereIs } from './extract-blocks'
import { runBlock } from './run-block'
import { type BlockDiagnostics, typecheckBlocks } from './typecheck-blocks'

// What a reader copies from the repository's Markdown compiles under `tsc --strict` against the
// workspace packages, and the blocks marked `<!-- docs-test: run -->` run against the mock upstream.
const root = fileURLToPath(new URL('../..', import.meta.url))
const blocksDir = fileURLToPath(new URL('../blocks', import.meta.url))
const tsconfig = fileURLToPath(new URL('../tsconfig.blocks.json', import.meta.url))

const blocks = collectBlocks(root)
const written = writeBlocks(blocks, blocksDir)
const pathOf = new Map([...written].map(([path, block]) => [block, path]))
const named = (block: DocBlock) => ({ where: whereIs(block), block })

describe('the TypeScript blocks in the repository Markdown', () => {
  let diagnostics: BlockDiagnostics
  beforeAll(() => {
    diagnostics = typecheckBlocks(written, tsconfig)
  })

  it('reads every README, CONTRIBUTING and docs/*.md, and finds the blocks in them', () => {
    expect(docFiles(root)).toEqual(
      expect.arrayContaining([
        'README.md',
        'CONTRIBUTING.md',
        'apps/express/README.md',
        'docs/architecture.md',
      ]),
    )
    const withBlocks = new Set(blocks.map((block) => block.file))
    for (const file of ['README.md', 'packages/express/README.md', 'packages/hono/README.md'])
      expect(withBlocks, file).toContain(file)
  })

  it('sees no type error outside the blocks (config, missing type packages)', () => {
    expect(diagnostics.other).toEqual([])
  })

  const checked = blocks.filter((block) => block.mode !== 'skip').map(named)
  it.each(checked)('$where type-checks under tsc --strict', ({ block }) => {
    const errors = diagnostics.byBlock.get(block) ?? []
    expect(errors, `\n${errors.join('\n')}\n`).toEqual([])
  })

  const runnable = blocks.filter((block) => block.mode === 'run').map(named)
  // Each run is its own process, mostly startup: run them side by side.
  it.concurrent.for(runnable)(
    '$where runs against the mock upstream',
    async ({ where, block }, { expect }) => {
      const path = pathOf.get(block)
      if (!path) throw new Error(`${where} was not written`)
      const run = await runBlock(path)
      expect(run.exitCode, `${where} exited ${run.exitCode}:\n${run.stderr}`).toBe(0)
      if (block.expectedOutput !== undefined)
        expect(run.stdout.trimEnd(), `the output shown at ${block.expectedOutputAt}`).toBe(
          block.expectedOutput.trimEnd(),
        )
    },
  )

  for (const block of blocks.filter((each) => each.mode === 'skip'))
    it.skip(`${whereIs(block)} is not checked: ${block.skipReason}`, () => {})
})
