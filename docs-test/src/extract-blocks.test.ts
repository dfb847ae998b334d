import { describe, expect, it } from 'vitest'
import { extractBlocks } from './extract-blocks'

const md = (...lines: string[]) => lines.join('\n')

describe('extractBlocks', () => {
  it('finds ts, typescript and tsx blocks with the line of their first line of code', () => {
    const blocks = extractBlocks(
      md(
        '# Title',
        '',
        '```ts',
        'const a = 1',
        '```',
        '',
        '```sh',
        'echo not typescript',
        '```',
        '',
        '```typescript title="x.ts"',
        'const b = 2',
        '```',
        '',
        '```tsx',
        'const c = <div />',
        '```',
      ),
      'README.md',
    )
    expect(blocks.map(({ line, extension, code, mode }) => ({ line, extension, code, mode }))).toEqual([
      { line: 4, extension: 'ts', code: 'const a = 1', mode: 'check' },
      { line: 12, extension: 'ts', code: 'const b = 2', mode: 'check' },
      { line: 16, extension: 'tsx', code: 'const c = <div />', mode: 'check' },
    ])
  })

  it('finds a block inside a list item, without its indentation, with the column it starts at', () => {
    const [block] = extractBlocks(
      md('1. Step one:', '', '   ```ts', '   const a = 1', '     + 2', '   ```'),
      'apps/x/README.md',
    )
    expect(block).toMatchObject({ file: 'apps/x/README.md', line: 4, column: 4, code: 'const a = 1\n  + 2' })
  })

  it('reads run, skip with its reason, and the output a run block prints', () => {
    const blocks = extractBlocks(
      md(
        '<!-- docs-test: run -->',
        '```ts',
        "console.log('hi')",
        '```',
        '',
        '<!-- docs-test: output -->',
        '```text',
        'hi',
        '```',
        '',
        '<!-- docs-test: skip signatures, not code -->',
        '```ts',
        'function f(): void',
        '```',
      ),
      'README.md',
    )
    expect(blocks).toMatchObject([
      { mode: 'run', expectedOutput: 'hi', expectedOutputAt: 'README.md:7' },
      { mode: 'skip', skipReason: 'signatures, not code' },
    ])
  })

  it('refuses a marker it does not know, naming the file and line', () => {
    expect(() => extractBlocks(md('x', '', '<!-- docs-test: rnu -->', '```ts', '1', '```'), 'a.md')).toThrow(
      "a.md:3: unknown docs-test marker 'rnu'",
    )
  })

  it('refuses a skip without a reason', () => {
    expect(() => extractBlocks(md('<!-- docs-test: skip -->', '```ts', '1', '```'), 'a.md')).toThrow(
      'a.md:1: `docs-test: skip` needs a reason',
    )
  })

  it('refuses a marker that is not right before a code block', () => {
    expect(() => extractBlocks(md('<!-- docs-test: run -->', '', 'Some prose.'), 'a.md')).toThrow(
      'a.md:1: a docs-test marker must come right before a fenced code block',
    )
  })

  it('refuses an output block that does not follow a run block', () => {
    expect(() =>
      extractBlocks(md('```ts', '1', '```', '', '<!-- docs-test: output -->', '```text', '1', '```'), 'a.md'),
    ).toThrow('a.md:6: `docs-test: output` must follow a `docs-test: run` block')
  })

  it('leaves ordinary HTML comments alone', () => {
    expect(extractBlocks(md('<!-- a note -->', '```ts', '1', '```'), 'a.md')).toMatchObject([
      { mode: 'check' },
    ])
  })
})
