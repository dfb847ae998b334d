import { createMockOpenAI, exampleMockKey } from '@keyguard/testing'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { createKeyguard } from './create-keyguard'
import type { KeyguardOptions } from './keyguard-options'

const silent = { warn() {}, error() {} }
const body = { model: 'gpt-4o-mini', input: 'Write a long essay.', max_output_tokens: 1000, background: true }

function setup(options: Partial<KeyguardOptions> = {}) {
  const mock = createMockOpenAI({ validKeys: [exampleMockKey] })
  const guard = createKeyguard({
    key: exampleMockKey,
    upstream: { fetch: mock.fetch },
    logger: silent,
    ...options,
  })
  const settled: { costNanos: number; estimated: boolean }[] = []
  guard.on('settle', (event) => settled.push(event))
  const openai = new OpenAI({ apiKey: 'unused', fetch: guard.fetch, maxRetries: 0 })
  return { mock, guard, openai, settled }
}

describe('createKeyguard', () => {
  it('refuses a background response by default, naming the option, and sends nothing', async () => {
    const { openai, mock } = setup()
    const refused = await openai.responses.create(body).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError)
    expect(refused).toMatchObject({
      status: 400,
      error: { code: 'request.invalid', type: 'invalid_request_error' },
    })
    expect((refused as Error).message).toContain("backgroundResponses: 'charge-hold'")
    expect(mock.requests).toHaveLength(0)
  })

  it('charges an allowed background response its whole hold, never the prompt alone', async () => {
    const { openai, guard, settled } = setup({ backgroundResponses: 'charge-hold' })
    const estimate = await guard.estimate({ endpoint: '/v1/responses', body })
    await openai.responses.create(body)
    await expect.poll(() => settled.length).toBe(1)
    expect(settled[0]).toMatchObject({ costNanos: estimate?.maxCostNanos, estimated: true })
  })

  it('lists a wrong backgroundResponses value at construction', () => {
    expect(() => createKeyguard({ key: exampleMockKey, backgroundResponses: 'settle' as never })).toThrow(
      expect.objectContaining({ problems: [expect.objectContaining({ path: 'backgroundResponses' })] }),
    )
  })
})
