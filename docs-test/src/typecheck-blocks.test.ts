import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { writeBlocks } from './collect-blocks'
import { extractBlocks } from './extract-blocks'
import { typecheckBlocks } from './typecheck-blocks'

const dir = fileURLToPath(new URL('../blocks-unit/typecheck', import.meta.url))
const tsconfig = fileURLToPath(new URL('../tsconfig.blocks.json', import.meta.url))

describe('typecheckBlocks', () => {
  const markdown = [
    '# Example',
    '',
    '1. A step:',
    '',
    '   ```ts',
    "   import { usd } from '@keyguard/core'",
    "   const limit: number = usd('20')",
    '   ```',
    '',
    '```ts',
    "import { formatUsd, usd } from '@keyguard/core'",
    'console.log(formatUsd(usd(20)))',
    '```',
    '',
    '```ts',
    'export const double = (x) => x * 2',
    '```',
    '',
    '```ts',
    'declare global {',
    '  var tenantFromAnotherBlock: string',
    '}',
    "const limit = 'a name another block also declares'",
    '```',
    '',
    '```ts',
    'const limit = tenantFromAnotherBlock',
    '```',
  ].join('\n')
  const blocks = extractBlocks(markdown, 'packages/x/README.md')
  const [broken, fine, untyped, augmenting, reaching] = blocks
  // One call for every case: loading the packages' types is the slow part.
  const { byBlock, other } = typecheckBlocks(writeBlocks(blocks, dir), tsconfig)

  it('names the Markdown file, line and column of each error', () => {
    expect(other).toEqual([])
    expect(byBlock.get(broken!)).toEqual([
      expect.stringMatching(/^packages\/x\/README\.md:7:30 - error TS2345: Argument of type 'string'/),
    ])
  })

  it('passes a block that compiles against the workspace packages', () => {
    expect(byBlock.get(fine!)).toBeUndefined()
  })

  it('checks under strict: an untyped parameter is an error', () => {
    expect(byBlock.get(untyped!)).toEqual([
      expect.stringContaining('packages/x/README.md:16:24 - error TS7006'),
    ])
  })

  it("checks each block on its own: another block's names and `declare global` do not reach it", () => {
    expect(byBlock.get(augmenting!)).toBeUndefined()
    expect(byBlock.get(reaching!)).toEqual([
      expect.stringContaining(
        "packages/x/README.md:27:15 - error TS2304: Cannot find name 'tenantFromAnotherBlock'",
      ),
    ])
  })
})
