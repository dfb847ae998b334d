import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isKeyguardError } from '../errors/keyguard-error'
import { byteUpperBoundCounter, loadTokenizer, type TokenCounter } from './count-tokens'
import { estimateRequest } from './estimate-request'

const chat = (extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', name: 'ada', content: 'Say hi' },
  ],
  ...extra,
})

describe('estimateRequest', () => {
  it('counts chat text with OpenAI framing: 3 per message, 1 per name, 3 to prime the reply', async () => {
    const count = await loadTokenizer('o200k_base')
    const estimate = await estimateRequest('/v1/chat/completions', chat({ max_tokens: 100 }), {
      defaultServiceTier: 'default',
    })
    const expected =
      3 +
      count('system') +
      count('You are terse.') +
      (3 + count('user') + count('ada') + 1 + count('Say hi')) +
      3
    expect(estimate?.inputTokens).toBe(expected)
    expect(estimate).toMatchObject({
      endpoint: '/v1/chat/completions',
      model: 'gpt-4o-mini',
      exact: true,
      stream: false,
    })
    expect(estimate?.maxOutputTokens).toBe(100)
    // gpt-4o-mini: $0.15/1M in = 150 nanos a token, $0.60/1M out = 600.
    expect(estimate?.maxCostNanos).toBe(expected * 150 + 100 * 600)
    expect(estimate?.minCostNanos).toBe(expected * 150)
    expect(estimate?.asOf).toBe('2026-11-05')
  })

  it('returns null for an endpoint it does not price', async () => {
    expect(await estimateRequest('/v1/images/generations', { model: 'gpt-image-1' })).toBeNull()
    expect(await estimateRequest('/v1/models', {})).toBeNull()
  })

  it('accepts a full URL and a JSON string body', async () => {
    const estimate = await estimateRequest(
      'https://api.openai.com/v1/chat/completions?x=1',
      JSON.stringify(chat()),
    )
    expect(estimate?.endpoint).toBe('/v1/chat/completions')
  })

  it('fails closed on an unknown or missing model', async () => {
    for (const body of [{ ...chat(), model: 'gpt-unknown' }, { messages: [] }, 'null']) {
      const error = await estimateRequest('/v1/chat/completions', body).catch((e: unknown) => e)
      expect(isKeyguardError(error) && error.code).toBe('estimate.unknown_model')
    }
  })

  it('bounds output by max_completion_tokens, then the model cap, then the configured default', async () => {
    const bound = async (extra: Record<string, unknown>, options = {}) =>
      (await estimateRequest('/v1/chat/completions', chat(extra), options))?.maxOutputTokens
    expect(await bound({ max_completion_tokens: 50, max_tokens: 70 })).toBe(50)
    expect(await bound({ max_tokens: 1_000_000 })).toBe(16_384)
    expect(await bound({})).toBe(16_384)
    expect(await bound({}, { defaultMaxOutputTokens: 1000 })).toBe(1000)
    expect(await bound({ max_tokens: 10, n: 3 })).toBe(30)
  })

  it('prices the requested service tier', async () => {
    const standard = await estimateRequest('/v1/chat/completions', {
      ...chat({ max_tokens: 10, service_tier: 'default' }),
      model: 'gpt-5',
    })
    const priority = await estimateRequest('/v1/chat/completions', {
      ...chat({ max_tokens: 10, service_tier: 'priority' }),
      model: 'gpt-5',
    })
    expect(priority?.maxCostNanos).toBe(2 * (standard?.maxCostNanos ?? 0))
  })

  it('holds a request that names no tier, or auto, at Priority unless the project default is standard', async () => {
    const body = { ...chat({ max_tokens: 10 }), model: 'gpt-5' }
    const standard = await estimateRequest('/v1/chat/completions', { ...body, service_tier: 'default' })
    const unnamed = await estimateRequest('/v1/chat/completions', body)
    const auto = await estimateRequest('/v1/chat/completions', { ...body, service_tier: 'auto' })
    const configured = await estimateRequest('/v1/chat/completions', body, { defaultServiceTier: 'default' })
    expect(unnamed).toMatchObject({
      serviceTier: 'priority',
      maxCostNanos: 2 * (standard?.maxCostNanos ?? 0),
    })
    expect(auto?.maxCostNanos).toBe(unnamed?.maxCostNanos)
    expect(unnamed?.minCostNanos).toBe(standard?.minCostNanos)
    expect(configured).toMatchObject({ serviceTier: 'default', maxCostNanos: standard?.maxCostNanos })
  })

  it('holds the rest of the context window for input it cannot see, and says it is inexact', async () => {
    const seen = { model: 'gpt-4o', input: 'and then?', max_output_tokens: 1000, service_tier: 'default' }
    const visible = await estimateRequest('/v1/responses', seen)
    for (const extra of [
      { previous_response_id: 'resp_1' },
      { conversation: 'conv_1' },
      { prompt: { id: 'pmpt_1', version: '2' } },
      { input: [{ type: 'item_reference', id: 'msg_1' }] },
    ]) {
      const estimate = await estimateRequest('/v1/responses', { ...seen, ...extra })
      // gpt-4o: a 128k window, 1000 of it output.
      expect(estimate).toMatchObject({ exact: false, unseenInput: true, inputTokens: 127_000 })
      expect(estimate?.maxCostNanos).toBe(127_000 * 2500 + 1000 * 10_000)
      expect(estimate?.minCostNanos).toBeLessThanOrEqual(visible?.minCostNanos ?? 0)
    }
    expect(visible).toMatchObject({ exact: true, unseenInput: false })
  })

  it('holds audio it cannot count at the audio input rate', async () => {
    const estimate = await estimateRequest('/v1/chat/completions', {
      model: 'gpt-4o-audio-preview',
      messages: [
        { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] },
      ],
      max_tokens: 100,
      service_tier: 'default',
    })
    const held = (estimate?.inputTokens ?? 0) - 6
    expect(estimate).toMatchObject({ unseenInput: true, inputTokens: 128_000 - 100 })
    // $40 per 1M audio input tokens (the 2024-12-17 price) for what is unseen.
    expect(estimate?.maxCostNanos).toBeGreaterThanOrEqual(held * 40_000)
  })

  it('takes every cacheable token as cached for the minimum', async () => {
    const long = 'word '.repeat(3000)
    const estimate = await estimateRequest('/v1/chat/completions', {
      model: 'gpt-4.1',
      messages: [{ role: 'user', content: long }],
      max_tokens: 1,
    })
    const input = estimate?.inputTokens ?? 0
    const cacheable = input - ((input - 1024) % 128)
    // gpt-4.1: $2/1M input (2000 nanos a token), $0.50/1M cached (500).
    expect(estimate?.minCostNanos).toBe(cacheable * 500 + (input - cacheable) * 2000)
  })

  it('counts the Responses API: instructions, string input and items', async () => {
    const count = await loadTokenizer('o200k_base')
    const simple = await estimateRequest('/v1/responses', {
      model: 'gpt-5',
      instructions: 'Be brief.',
      input: 'Hello there',
      max_output_tokens: 64,
      stream: true,
    })
    expect(simple?.inputTokens).toBe(
      3 + count('developer') + count('Be brief.') + 3 + count('user') + count('Hello there') + 3,
    )
    expect(simple).toMatchObject({
      endpoint: '/v1/responses',
      stream: true,
      maxOutputTokens: 64,
      exact: true,
    })

    const items = await estimateRequest('/v1/responses', {
      model: 'gpt-5',
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'Weather in Paris?' }] },
        { type: 'function_call', call_id: 'c1', name: 'weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call_output', call_id: 'c1', output: '{"temp":21}' },
      ],
      tools: [
        {
          type: 'function',
          name: 'weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      ],
    })
    expect(items?.exact).toBe(false)
    expect(items?.inputTokens).toBeGreaterThan(count('Weather in Paris?{"city":"Paris"}{"temp":21}'))
  })

  it('counts embeddings input: strings, arrays and token arrays, with no output', async () => {
    const count = await loadTokenizer('cl100k_base')
    const one = await estimateRequest('/v1/embeddings', {
      model: 'text-embedding-3-small',
      input: 'hello world',
    })
    expect(one).toMatchObject({ inputTokens: count('hello world'), maxOutputTokens: 0 })
    expect(one?.minCostNanos).toBe(one?.maxCostNanos)
    const many = await estimateRequest('/v1/embeddings', {
      model: 'text-embedding-3-small',
      input: ['a b', 'c'],
    })
    expect(many?.inputTokens).toBe(count('a b') + count('c'))
    const tokens = await estimateRequest('/v1/embeddings', {
      model: 'text-embedding-3-large',
      input: [[1, 2, 3], [4]],
    })
    expect(tokens?.inputTokens).toBe(4)
    expect(
      (await estimateRequest('/v1/embeddings', { model: 'text-embedding-3-large', input: [1, 2, 3] }))
        ?.inputTokens,
    ).toBe(3)
  })

  it('counts images by the model formula, inexact where the size or the choice is unknown', async () => {
    const withImage = (detail: string, model = 'gpt-4o') => ({
      model,
      messages: [
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png', detail } }] },
      ],
      max_tokens: 1,
    })
    const low = await estimateRequest('/v1/chat/completions', withImage('low'))
    const high = await estimateRequest('/v1/chat/completions', withImage('high'))
    // `low` is 85 tokens whatever the size; `high` on a URL is held at the largest shape.
    expect(low?.exact).toBe(true)
    expect(high?.exact).toBe(false)
    expect((high?.inputTokens ?? 0) - (low?.inputTokens ?? 0)).toBe(170 * 8)
    const patch = await estimateRequest('/v1/chat/completions', withImage('high', 'gpt-4.1-mini'))
    expect(patch?.inputTokens).toBeGreaterThan(Math.ceil(1536 * 1.62))
  })

  it('counts tool definitions, tool calls and tool results', async () => {
    const estimate = await estimateRequest('/v1/chat/completions', {
      model: 'gpt-4.1',
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 't1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 't1', content: '{"temp":3}' },
      ],
      tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }],
    })
    const plain = await estimateRequest('/v1/chat/completions', {
      model: 'gpt-4.1',
      messages: [{ role: 'user', content: 'Weather?' }],
    })
    expect(estimate?.exact).toBe(false)
    expect((estimate?.inputTokens ?? 0) - (plain?.inputTokens ?? 0)).toBeGreaterThan(20)
  })

  it('throws estimate.too_large when the prompt alone is over the context window', async () => {
    const error = await estimateRequest('/v1/chat/completions', {
      model: 'gpt-4',
      messages: [{ role: 'user', content: 'lorem ipsum '.repeat(9000) }],
    }).catch((e: unknown) => e)
    expect(isKeyguardError(error) && error.code).toBe('estimate.too_large')
  })

  it('throws estimate.too_large when the most a request could cost is past a safe integer of nanos', async () => {
    const error = await estimateRequest('/v1/chat/completions', chat({ n: 1e9 })).catch((e: unknown) => e)
    expect(isKeyguardError(error) && error.code).toBe('estimate.too_large')
    const many = await estimateRequest('/v1/chat/completions', chat({ n: 1e6 }))
    expect(Number.isSafeInteger(many?.maxCostNanos)).toBe(true)
  })

  it('falls back to the byte bound when the counter cannot load', async () => {
    const broken: TokenCounter = {
      name: 'broken',
      exact: true,
      forEncoding: () => Promise.reject(new Error('no wasm')),
    }
    const quiet = { warn: () => {}, error: () => {} }
    const estimate = await estimateRequest('/v1/chat/completions', chat(), { counter: broken, logger: quiet })
    const bytes = await estimateRequest('/v1/chat/completions', chat(), { counter: byteUpperBoundCounter })
    expect(estimate?.exact).toBe(false)
    expect(estimate?.inputTokens).toBe(bytes?.inputTokens)
    const exact = await estimateRequest('/v1/chat/completions', chat())
    expect(estimate?.inputTokens).toBeGreaterThanOrEqual(exact?.inputTokens ?? Infinity)
  })

  it('warns once through the logger, naming the counter and the cause, when it falls back', async () => {
    const warnings: unknown[][] = []
    const logger = { warn: (...args: unknown[]) => warnings.push(args), error: () => {} }
    const broken: TokenCounter = {
      name: 'broken',
      exact: true,
      forEncoding: () => Promise.reject(new Error('no wasm')),
    }
    await estimateRequest('/v1/chat/completions', chat(), { counter: broken, logger })
    await estimateRequest('/v1/chat/completions', chat(), { counter: broken, logger })
    expect(warnings).toHaveLength(1)
    expect(String(warnings[0]?.[0])).toContain('broken')
    expect(String(warnings[0]?.[0])).toContain('no wasm')
  })

  it('gives integer costs, min never above max, max monotone in the output bound', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 300 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.constantFrom('gpt-4o', 'gpt-5-nano', 'o1-pro', 'gpt-5.4'),
        async (text, maxTokens, extra, model) => {
          const body = { model, messages: [{ role: 'user', content: text }], max_tokens: maxTokens }
          const a = await estimateRequest('/v1/chat/completions', body)
          const b = await estimateRequest('/v1/chat/completions', { ...body, max_tokens: maxTokens + extra })
          if (!a || !b) return false
          return (
            Number.isSafeInteger(a.minCostNanos) &&
            Number.isSafeInteger(a.maxCostNanos) &&
            a.minCostNanos <= a.maxCostNanos &&
            b.maxCostNanos >= a.maxCostNanos
          )
        },
      ),
      { numRuns: 50 },
    )
  })
})
