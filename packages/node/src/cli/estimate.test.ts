import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { estimateRequest } from '@keyguard/core'
import { describe, expect, it } from 'vitest'
import { runInProcess as run } from './__fixtures__/run-cli'

const requestFile = fileURLToPath(new URL('./__fixtures__/chat-request.json', import.meta.url))

describe('estimateCommand', () => {
  it('estimates a request body from a file: tokens, output bound and cost range', async () => {
    const { code, stdout, stderr } = await run(['estimate', requestFile])
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout).toMatch(/^Estimate for POST \/v1\/chat\/completions \(prices asOf \d{4}-\d{2}-\d{2}\)\n/)
    expect(stdout).toMatch(/\n {2}gpt-4o-mini +\d+ +300 +\$\d\.\d+ +\$\d\.\d+\n/)
  })

  it('reads the body from stdin and prints the same numbers as estimateRequest as JSON', async () => {
    const text = await readFile(requestFile, 'utf8')
    const { code, stdout } = await run(['estimate', '--json'], { input: text })
    expect(code).toBe(0)
    const expected = await estimateRequest('/v1/chat/completions', JSON.parse(text))
    expect(JSON.parse(stdout)).toEqual({
      endpoint: '/v1/chat/completions',
      asOf: expected!.asOf,
      errors: [],
      estimates: [
        {
          model: 'gpt-4o-mini',
          inputTokens: expected!.inputTokens,
          maxOutputTokens: 300,
          minCostNanos: expected!.minCostNanos,
          maxCostNanos: expected!.maxCostNanos,
          minCost: expect.stringMatching(/^\$/),
          maxCost: expect.stringMatching(/^\$/),
          exact: expected!.exact,
        },
      ],
    })
  })

  it('compares models side by side with --models', async () => {
    const { code, stdout } = await run(['estimate', requestFile, '--models', 'gpt-4o-mini,gpt-5-mini,o3'])
    expect(code).toBe(0)
    const rows = stdout.split('\n').filter((line) => /^ {2}(gpt|o3)/.test(line))
    expect(rows.map((row) => row.trim().split(/ +/)[0])).toEqual(['gpt-4o-mini', 'gpt-5-mini', 'o3'])
  })

  it('exits 1 for an unknown model and suggests a priced one', async () => {
    const { code, stderr } = await run(['estimate', requestFile, '--models', 'gpt-4o-mini,gpt-4o-mimi'])
    expect(code).toBe(1)
    expect(stderr).toContain('error: gpt-4o-mimi:')
    expect(stderr).toContain('Did you mean gpt-4o-mini?')
  })

  it('infers embeddings from the model and prices the input only', async () => {
    const input = JSON.stringify({ model: 'text-embedding-3-small', input: ['one', 'two three'] })
    const { code, stdout } = await run(['estimate', '--json'], { input })
    expect(code).toBe(0)
    const result = JSON.parse(stdout)
    expect(result.endpoint).toBe('/v1/embeddings')
    expect(result.estimates[0].maxOutputTokens).toBe(0)
  })

  it('exits 2, a usage error, when the body is not JSON, not an object, or names no model', async () => {
    const { code, stderr } = await run(['estimate'], { input: '{"model": ' })
    expect(code).toBe(2)
    expect(stderr).toContain('error: stdin is not valid JSON')
    expect((await run(['estimate'], { input: '[1, 2]' })).code).toBe(2)
    const unnamed = await run(['estimate'], { input: '{"input": "hi"}' })
    expect(unnamed.code).toBe(2)
    expect(unnamed.stderr).toContain('--models')
  })

  it('suggests only a model that is a near miss, not the nearest of unrelated names', async () => {
    const { code, stderr } = await run(['estimate', requestFile, '--models', 'gpt-9-ultra'])
    expect(code).toBe(1)
    expect(stderr).toContain('error: gpt-9-ultra:')
    expect(stderr).not.toContain('Did you mean')
  })

  it('prints a sub-cent cost with its significant digits instead of $0.00', async () => {
    const input = JSON.stringify({ model: 'text-embedding-3-small', input: 'hi' })
    const { code, stdout } = await run(['estimate', '--json'], { input })
    expect(code).toBe(0)
    const [estimate] = JSON.parse(stdout).estimates
    expect(estimate.maxCostNanos).toBeGreaterThan(0)
    expect(estimate.maxCost).not.toBe('$0.00')
    expect(estimate.maxCost).toMatch(/^\$0\.0+[1-9]/)
  })

  it('exits 2 when there is no body at all or the file does not exist', async () => {
    expect((await run(['estimate'])).code).toBe(2)
    const missing = await run(['estimate', 'no-such-request.json'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('error: cannot read no-such-request.json: ENOENT.')
  })

  it('suggests the command when it is mistyped', async () => {
    const { code, stderr } = await run(['estimte'])
    expect(code).toBe(2)
    expect(stderr).toContain("error: unknown command 'estimte'\n(Did you mean estimate?)")
  })
})
