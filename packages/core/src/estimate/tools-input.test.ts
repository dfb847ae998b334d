import { describe, expect, it } from 'vitest'
import { estimateRequest } from './estimate-request'
import { renderFunctions } from './function-prompt'

const weather = {
  name: 'get_weather',
  description: 'Get the weather',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string', description: 'The city' } },
    required: ['city'],
  },
}
const body = (extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4o',
  messages: [{ role: 'user', content: 'Weather in Oslo?' }],
  tools: [{ type: 'function', function: weather }],
  max_tokens: 1,
  service_tier: 'default',
  ...extra,
})
const chat = async (request: unknown) =>
  (await estimateRequest('/v1/chat/completions', request)) ?? expect.fail()

describe('renderFunctions', () => {
  it('renders the namespace OpenAI shows the model', () => {
    expect(renderFunctions([weather])).toEqual({
      text: [
        'namespace functions {',
        '',
        '// Get the weather',
        'type get_weather = (_: {',
        '// The city',
        'city: string,',
        '}) => any;',
        '',
        '} // namespace functions',
      ].join('\n'),
      exact: true,
    })
  })

  it('charges what it cannot render as JSON and says so', () => {
    const strict = renderFunctions([
      {
        ...weather,
        strict: true,
        parameters: { ...weather.parameters, additionalProperties: false },
      },
    ])
    expect(strict.exact).toBe(false)
    expect(strict.text).toContain('{"additionalProperties":false}')
    const union = renderFunctions([
      {
        name: 'f',
        parameters: { type: 'object', properties: { x: { anyOf: [{ type: 'string' }, { type: 'null' }] } } },
      },
    ])
    expect(union).toMatchObject({ exact: false })
    expect(union.text).toContain('x?: {"anyOf":[{"type":"string"},{"type":"null"}]},')
  })

  it('charges a schema nested deeper than any OpenAI accepts as JSON, without walking it', () => {
    let items: Record<string, unknown> = { type: 'string' }
    for (let depth = 0; depth < 2000; depth++) items = { type: 'array', items }
    const deep = renderFunctions([{ name: 'f', parameters: { type: 'object', properties: { x: items } } }])
    expect(deep.exact).toBe(false)
    expect(deep.text).toContain('[][][]')
  })
})

describe('estimateRequest with tools', () => {
  it('counts the same definitions the same way in Chat Completions, Responses and legacy functions', async () => {
    const tools = await chat(body())
    const functions = await chat(body({ tools: undefined, functions: [weather] }))
    const responses = await estimateRequest('/v1/responses', {
      model: 'gpt-4o',
      input: 'Weather in Oslo?',
      tools: [{ type: 'function', ...weather }],
      max_output_tokens: 1,
      service_tier: 'default',
    })
    expect(functions.inputTokens).toBe(tools.inputTokens)
    expect(responses?.inputTokens).toBe(tools.inputTokens)
    expect(tools.exact).toBe(true)
  })

  it('holds tool_choice, strict and parallel_tool_calls: false above the published count, as inexact', async () => {
    const base = await chat(body())
    for (const extra of [
      { tool_choice: 'required' },
      { tool_choice: 'none' },
      { tool_choice: { type: 'function', function: { name: 'get_weather' } } },
      { parallel_tool_calls: false },
      { tools: [{ type: 'function', function: { ...weather, strict: true } }] },
    ]) {
      const estimate = await chat(body(extra))
      expect(estimate.exact).toBe(false)
      expect(estimate.inputTokens).toBeGreaterThanOrEqual(base.inputTokens)
    }
    expect((await chat(body({ tool_choice: 'auto' }))).inputTokens).toBe(base.inputTokens)
  })

  it('holds families with unpublished tool framing above the published one', async () => {
    const published = await chat(body())
    const later = await chat(body({ model: 'gpt-4.1' }))
    expect(later.exact).toBe(false)
    expect(later.inputTokens).toBeGreaterThan(published.inputTokens)
  })

  it('charges a malformed tool as its JSON', async () => {
    const estimate = await chat(body({ tools: [{ type: 'function', name: 'not_nested_here' }] }))
    const none = await chat(body({ tools: undefined }))
    expect(estimate.exact).toBe(false)
    expect(estimate.inputTokens).toBeGreaterThan(none.inputTokens + 5)
  })

  it('holds a hosted tool at the context window: what it finds is input no request shows', async () => {
    const estimate = await estimateRequest('/v1/responses', {
      model: 'gpt-4o',
      input: 'News today?',
      tools: [{ type: 'web_search' }],
      max_output_tokens: 100,
    })
    expect(estimate).toMatchObject({ unseenInput: true, exact: false, inputTokens: 128_000 - 100 })
  })

  it('bounds a JSON-schema response format by its compact JSON', async () => {
    const format = {
      type: 'json_schema',
      json_schema: {
        name: 'answer',
        strict: true,
        schema: { type: 'object', properties: { a: { type: 'string' } } },
      },
    }
    const plain = await chat(body({ tools: undefined }))
    const structured = await chat(body({ tools: undefined, response_format: format }))
    expect(structured.exact).toBe(false)
    expect(structured.inputTokens - plain.inputTokens).toBeGreaterThan(15)
  })

  it('charges a tool call as a legacy function call at least, and a tool result the name it answers', async () => {
    const call = { name: 'get_weather', arguments: '{"city":"Oslo"}' }
    const legacy = await chat(
      body({
        tools: undefined,
        messages: [
          { role: 'user', content: 'Weather in Oslo?' },
          { role: 'assistant', content: '', function_call: call },
          { role: 'function', name: 'get_weather', content: '{"temp":3}' },
        ],
      }),
    )
    const modern = await chat(
      body({
        tools: undefined,
        messages: [
          { role: 'user', content: 'Weather in Oslo?' },
          {
            role: 'assistant',
            content: '',
            tool_calls: [{ id: 'call_1', type: 'function', function: call }],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '{"temp":3}' },
        ],
      }),
    )
    expect(legacy.exact).toBe(true)
    expect(modern.exact).toBe(false)
    expect(modern.inputTokens).toBeGreaterThanOrEqual(legacy.inputTokens)
  })
})

describe('estimateRequest with a schema too large to render in one pass', () => {
  const withProperties = (count: number) => {
    const names = Array.from({ length: count }, (_, index) => `property_${index}`)
    return {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'f',
            parameters: {
              type: 'object',
              properties: Object.fromEntries(names.map((name) => [name, { type: 'string' }])),
              required: names,
            },
          },
        },
      ],
    }
  }

  it('counts its JSON in pieces: inexact, and above what the rendering would count', async () => {
    // 600 properties render (under 2,000 nodes); 1,800 take the JSON path. The rendering is additive
    // per property, so three times the 600-property count bounds the 1,800-property rendering.
    const rendered = (await estimateRequest('/v1/chat/completions', withProperties(600))) ?? expect.fail()
    const large = (await estimateRequest('/v1/chat/completions', withProperties(1_800))) ?? expect.fail()
    expect(rendered.exact).toBe(true)
    expect(large.exact).toBe(false)
    expect(large.inputTokens).toBeGreaterThanOrEqual(3 * rendered.inputTokens)
  })
})
