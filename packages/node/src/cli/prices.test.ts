import { describe, expect, it } from 'vitest'
import { runInProcess as run } from './__fixtures__/run-cli'

describe('pricesCommand', () => {
  it('prints the whole table with its asOf date, in USD per 1M tokens', async () => {
    const { code, stdout, stderr } = await run(['prices'])
    expect(code).toBe(0)
    expect(stderr).toBe('')
    expect(stdout).toMatch(/^OpenAI prices asOf \d{4}-\d{2}-\d{2}, USD per 1M tokens\n/)
    expect(stdout).toMatch(/\n {2}gpt-4o-mini +\$0\.15 +\$0\.075 +\$0\.60 /)
    expect(stdout).toMatch(/\n {2}text-embedding-3-small +\$0\.02 +- +- /)
  })

  it('filters by a glob, leaving other families out', async () => {
    const { code, stdout } = await run(['prices', '--model', 'gpt-4o*'])
    expect(code).toBe(0)
    expect(stdout).toContain('gpt-4o-mini')
    expect(stdout).not.toContain('gpt-5')
    expect(stdout).not.toContain('o3')
  })

  it('filters by a substring and prints one JSON object', async () => {
    const { code, stdout } = await run(['prices', '-m', 'embedding', '--json'])
    expect(code).toBe(0)
    const result = JSON.parse(stdout)
    expect(result.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    expect(result.unit).toBe('USD per 1M tokens')
    expect(result.models.map((model: { model: string }) => model.model).sort()).toEqual([
      'text-embedding-3-large',
      'text-embedding-3-small',
      'text-embedding-ada-002',
    ])
    expect(
      result.models.find((model: { model: string }) => model.model === 'text-embedding-3-small'),
    ).toMatchObject({
      kind: 'embedding',
      input: 0.02,
      batchInput: 0.01,
    })
  })

  it('exits 1 and suggests the nearest model when nothing matches', async () => {
    const { code, stdout, stderr } = await run(['prices', '--model', 'gtp-4o'])
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toContain("matches 'gtp-4o'\n(Did you mean gpt-4o?)")
  })

  it('suggests nothing when no model is a near miss, and points at the full list', async () => {
    const { code, stderr } = await run(['prices', '--model', 'claude-3-opus'])
    expect(code).toBe(1)
    expect(stderr).not.toContain('Did you mean')
    expect(stderr).toContain('Run keyguard prices to list every model.')
  })
})
