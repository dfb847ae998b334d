// Token counts OpenAI's API reported for known requests, each with where it was published. The estimate
// must be within 2% of `promptTokens` (`kind: 'count'`) or at least it (`kind: 'bound'`: a measurement of
// a family whose documented formula keyguard holds as an upper bound).

export interface PublishedRequest {
  source: string
  model: string
  body: Record<string, unknown>
  /** `usage.prompt_tokens` as published. */
  promptTokens: number
}

const COOKBOOK =
  'OpenAI Cookbook, "How to count tokens with tiktoken" (https://cookbook.openai.com/examples/how_to_count_tokens_with_tiktoken)'
// Each case there is checked against the API (gpt-3.5-turbo) by the package's own test suite.
const CHAT_TOKENS =
  'hmarr/openai-chat-tokens, tests/token-counts.test.ts (https://github.com/hmarr/openai-chat-tokens), counts from the API on gpt-3.5-turbo'

const jargon = [
  {
    role: 'system',
    content:
      'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.',
  },
  { role: 'system', name: 'example_user', content: 'New synergies will help drive top-line growth.' },
  {
    role: 'system',
    name: 'example_assistant',
    content: 'Things working well together will increase revenue.',
  },
  {
    role: 'system',
    name: 'example_user',
    content:
      "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
  },
  {
    role: 'system',
    name: 'example_assistant',
    content: "Let's talk later when we're less busy about how to do better.",
  },
  {
    role: 'user',
    content: "This late pivot means we don't have time to boil the ocean for the client deliverable.",
  },
]

const weatherTools = [
  {
    type: 'function',
    function: {
      name: 'get_current_weather',
      description: 'Get the current weather in a given location',
      parameters: {
        type: 'object',
        properties: {
          location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' },
          unit: {
            type: 'string',
            description: 'The unit of temperature to return',
            enum: ['celsius', 'fahrenheit'],
          },
        },
        required: ['location'],
      },
    },
  },
]
const weatherMessages = [
  { role: 'system', content: 'You are a helpful assistant that can answer to questions about the weather.' },
  { role: 'user', content: "What's the weather like in San Francisco?" },
]

const cookbook: PublishedRequest[] = [
  ...(
    [
      ['gpt-3.5-turbo', 129],
      ['gpt-4', 129],
      ['gpt-4o', 124],
      ['gpt-4o-mini', 124],
    ] as const
  ).map(([model, promptTokens]) => ({
    source: `${COOKBOOK}, section 6 (six messages with names)`,
    model,
    body: { model, messages: jargon },
    promptTokens,
  })),
  ...(
    [
      ['gpt-3.5-turbo', 105],
      ['gpt-4', 105],
      ['gpt-4o', 101],
      ['gpt-4o-mini', 101],
    ] as const
  ).map(([model, promptTokens]) => ({
    source: `${COOKBOOK}, section 7 (counting tokens for chat completions with tool calls)`,
    model,
    body: { model, messages: weatherMessages, tools: weatherTools },
    promptTokens,
  })),
]

const user = (content: string) => ({ role: 'user', content })
const fn = (name: string, properties: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  name,
  ...extra,
  parameters: { type: 'object', properties },
})
const doStuff = [fn('do_stuff')]

// [messages, functions, prompt tokens]
const chatTokensCases: Array<[unknown[], unknown[] | undefined, number]> = [
  [[user('hello')], undefined, 8],
  [[user('hello world')], undefined, 9],
  [[{ role: 'system', content: 'hello' }], undefined, 8],
  [[{ role: 'system', content: 'hello:' }], undefined, 9],
  [
    [
      { role: 'system', content: "# Important: you're the best robot" },
      user('hello robot'),
      { role: 'assistant', content: 'hello world' },
    ],
    undefined,
    27,
  ],
  [[user('hello')], [fn('foo')], 31],
  [[user('hello')], [fn('foo', {}, { description: 'Do a foo' })], 36],
  [[user('hello')], [fn('bing_bong', { foo: { type: 'string' } }, { description: 'Do a bing bong' })], 49],
  [
    [user('hello')],
    [
      fn(
        'bing_bong',
        { foo: { type: 'string' }, bar: { type: 'number', description: 'A number' } },
        { description: 'Do a bing bong' },
      ),
    ],
    57,
  ],
  [
    [user('hello')],
    [
      fn(
        'bing_bong',
        {
          foo: {
            type: 'object',
            properties: { bar: { type: 'string', enum: ['a', 'b', 'c'] }, baz: { type: 'boolean' } },
          },
        },
        { description: 'Do a bing bong' },
      ),
    ],
    68,
  ],
  [[user('hello world'), { role: 'function', name: 'do_stuff', content: '{}' }], undefined, 15],
  [
    [user('hello world'), { role: 'function', name: 'do_stuff', content: '{"foo": "bar", "baz": 1.5}' }],
    undefined,
    28,
  ],
  [[{ role: 'function', name: 'dance_the_tango', content: '{"a": { "b" : { "c": false}}}' }], undefined, 24],
  [
    [
      {
        role: 'assistant',
        content: '',
        function_call: { name: 'do_stuff', arguments: '{"foo": "bar", "baz": 1.5}' },
      },
    ],
    undefined,
    26,
  ],
  [
    [
      {
        role: 'assistant',
        content: '',
        function_call: { name: 'do_stuff', arguments: '{"foo":"bar", "baz":\n\n 1.5}' },
      },
    ],
    undefined,
    25,
  ],
  [[{ role: 'system', content: 'Hello' }, user('Hi there')], doStuff, 35],
  [[{ role: 'system', content: 'Hello:' }, user('Hi there')], doStuff, 35],
  [
    [{ role: 'system', content: 'Hello:' }, { role: 'system', content: 'Hello' }, user('Hi there')],
    doStuff,
    40,
  ],
  [
    [user('hello')],
    [
      {
        name: 'get_recipe',
        parameters: {
          type: 'object',
          required: ['ingredients', 'instructions', 'time_to_cook'],
          properties: {
            ingredients: {
              type: 'array',
              items: {
                type: 'object',
                required: ['name', 'unit', 'amount'],
                properties: {
                  name: { type: 'string' },
                  unit: { enum: ['grams', 'ml', 'cups', 'pieces', 'teaspoons'], type: 'string' },
                  amount: { type: 'number' },
                },
              },
            },
            instructions: {
              type: 'array',
              items: { type: 'string' },
              description: 'Steps to prepare the recipe (no numbering)',
            },
            time_to_cook: { type: 'number', description: 'Total time to prepare the recipe in minutes' },
          },
        },
      },
    ],
    106,
  ],
]

const chatTokens: PublishedRequest[] = chatTokensCases.map(([messages, functions, promptTokens], index) => ({
  source: `${CHAT_TOKENS}, case ${index + 1}`,
  model: 'gpt-3.5-turbo',
  body: { model: 'gpt-3.5-turbo', messages, ...(functions ? { functions } : {}) },
  promptTokens,
}))

/** Whole requests whose prompt tokens OpenAI reported. */
export const publishedRequests: readonly PublishedRequest[] = [...cookbook, ...chatTokens]

export interface PublishedImage {
  source: string
  model: string
  width: number
  height: number
  detail: 'low' | 'high'
  /** The image's tokens as published. */
  tokens: number
  /** `count`: the estimate is within 2% of it; `bound`: a measurement the estimate must not fall below. */
  kind: 'count' | 'bound'
}

const VISION =
  'OpenAI API docs, "Images and vision", calculating costs (https://platform.openai.com/docs/guides/images-vision)'
const GPT5_MINI_MEASURED =
  'OpenAI Developer Community, "GPT-5-mini image input token calculation discrepancy with official FAQ formula" (2026-06-17), measured'
const GPT54_MEASURED =
  'OpenAI Developer Community, "Introducing GPT-5.4 mini and nano" (2026-03-18), 1600x1600 measured on the Responses API'

/** Image token counts from OpenAI's vision guide, and measurements published where it is wrong. */
export const publishedImages: readonly PublishedImage[] = [
  { source: VISION, model: 'gpt-4o', width: 1024, height: 1024, detail: 'high', tokens: 765, kind: 'count' },
  { source: VISION, model: 'gpt-4o', width: 2048, height: 4096, detail: 'high', tokens: 1105, kind: 'count' },
  { source: VISION, model: 'gpt-4o', width: 4096, height: 8192, detail: 'low', tokens: 85, kind: 'count' },
  // 1024 patches × 1.62, and 1452 patches (shrunk to fit 1536) × 1.62.
  {
    source: VISION,
    model: 'gpt-4.1-mini',
    width: 1024,
    height: 1024,
    detail: 'high',
    tokens: 1659,
    kind: 'count',
  },
  {
    source: VISION,
    model: 'gpt-4.1-mini',
    width: 1800,
    height: 2400,
    detail: 'high',
    tokens: 2353,
    kind: 'count',
  },
  ...(
    [
      [256, 256, 77],
      [512, 512, 308],
      [768, 1024, 922],
      [1280, 720, 1104],
      [1024, 1024, 1229],
      [2048, 768, 1844],
    ] as const
  ).map(([width, height, tokens]) => ({
    source: GPT5_MINI_MEASURED,
    model: 'gpt-5-mini',
    width,
    height,
    detail: 'high' as const,
    tokens,
    kind: 'bound' as const,
  })),
  ...(['gpt-5.4', 'gpt-5.4-mini', 'gpt-5.4-nano'] as const).map((model) => ({
    source: GPT54_MEASURED,
    model,
    width: 1600,
    height: 1600,
    detail: 'high' as const,
    tokens: 3008,
    kind: 'bound' as const,
  })),
]
