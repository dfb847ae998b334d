import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { writeBlocks } from './collect-blocks'
import { extractBlocks } from './extract-blocks'
import { runBlock } from './run-block'

const dir = fileURLToPath(new URL('../blocks-unit/run', import.meta.url))

function written(code: string): string {
  const blocks = extractBlocks(['<!-- docs-test: run -->', '```ts', code, '```'].join('\n'), 'README.md')
  const [path] = writeBlocks(blocks, dir).keys()
  return path!
}

describe('runBlock', () => {
  it('runs a block with OPENAI_API_KEY set and api.openai.com answered by the mock upstream', async () => {
    const path = written(
      [
        "const response = await fetch('https://api.openai.com/v1/models', {",
        "  headers: { authorization: 'Bearer ' + process.env.OPENAI_API_KEY },",
        '})',
        'console.log(response.status)',
      ].join('\n'),
    )
    expect(await runBlock(path)).toMatchObject({ exitCode: 0, stdout: '200\n' })
  })

  it('fails a block that reaches for the network', async () => {
    const run = await runBlock(written("await fetch('https://example.com/')"))
    expect(run.exitCode).not.toBe(0)
    expect(run.stderr).toContain('docs-test: a runnable block fetched https://example.com/')
  })
})
