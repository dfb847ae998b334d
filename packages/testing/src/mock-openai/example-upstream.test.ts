import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { exampleMockKey, exampleUpstream } from './example-upstream'

describe('exampleUpstream', () => {
  it('uses the real key and network when a key is given', () => {
    const upstream = exampleUpstream('sk-proj-real')
    expect(upstream.guardOptions).toEqual({ key: 'sk-proj-real' })
    expect(upstream.mock).toBeUndefined()
  })

  it('answers with the in-process mock, and says so, when no key is set', async () => {
    const upstream = exampleUpstream(undefined)
    expect(upstream.description).toMatch(/MOCK/)
    const openai = new OpenAI({
      apiKey: exampleMockKey,
      fetch: upstream.guardOptions.upstream?.fetch,
      maxRetries: 0,
    })
    const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [] })
    expect(completion.choices[0]?.message.content).toBe('Hello from the mock OpenAI server.')
    expect(upstream.mock?.requests).toHaveLength(1)
  })
})
