import { definePrices, type PriceTable } from './define-prices'

// OpenAI's published prices, USD per 1M tokens (https://platform.openai.com/docs/pricing and
// https://openai.com/api-priority-processing/), as of `asOf`. Batch is 50 % of standard and Flex is
// priced at Batch rates, so neither is written out unless it differs. Checked against
// @pydantic/genai-prices by openai-prices.test.ts (exceptions listed there with reasons).
const gpt5Priority = { input: 2.5, cachedInput: 0.25, output: 20 }
const gpt41Window = { contextWindow: 1_047_576, maxOutputTokens: 32_768 }
const gpt5Window = { contextWindow: 400_000, maxOutputTokens: 128_000 }
const reasoningWindow = { contextWindow: 200_000, maxOutputTokens: 100_000 }
const embeddingWindow = { kind: 'embedding' as const, contextWindow: 8191, maxOutputTokens: 0 }

/**
 * The bundled OpenAI price table: versioned (`asOf`), effective-dated, validated when loaded. Pass it to
 * {@link definePrices} as `extends` to override or add models.
 *
 * @example
 * ```ts
 * openaiPrices.asOf // '2026-11-05'
 * modelInfo('gpt-4o-mini', openaiPrices).contextWindow // 128000
 * ```
 */
export const openaiPrices: PriceTable = /* @__PURE__ */ (() =>
  definePrices({
    asOf: '2026-11-05',
    models: {
      'gpt-5.5': {
        contextWindow: 1_050_000,
        maxOutputTokens: 128_000,
        prices: [
          {
            input: 5,
            cachedInput: 0.5,
            output: 30,
            priority: { input: 12.5, cachedInput: 1.25, output: 75 },
            longContext: { above: 272_000, input: 10, cachedInput: 1, output: 45 },
          },
        ],
      },
      'gpt-5.5-pro': {
        contextWindow: 1_050_000,
        maxOutputTokens: 128_000,
        prices: [{ input: 30, output: 180, longContext: { above: 272_000, input: 60, output: 270 } }],
      },
      'gpt-5.4-pro': {
        contextWindow: 1_050_000,
        maxOutputTokens: 128_000,
        prices: [{ input: 30, output: 180, longContext: { above: 272_000, input: 60, output: 270 } }],
      },
      'gpt-5.4-mini': {
        ...gpt5Window,
        prices: [
          {
            input: 0.75,
            cachedInput: 0.075,
            output: 4.5,
            priority: { input: 1.5, cachedInput: 0.15, output: 9 },
          },
        ],
      },
      'gpt-5.4-nano': { ...gpt5Window, prices: [{ input: 0.2, cachedInput: 0.02, output: 1.25 }] },
      'gpt-5.4': {
        contextWindow: 1_050_000,
        maxOutputTokens: 128_000,
        prices: [
          {
            input: 2.5,
            cachedInput: 0.25,
            output: 15,
            priority: { input: 5, cachedInput: 0.5, output: 30 },
            // Over 272K input tokens the whole request is billed at 2x input and 1.5x output.
            longContext: { above: 272_000, input: 5, cachedInput: 0.5, output: 22.5 },
          },
        ],
      },
      'gpt-5.2': {
        ...gpt5Window,
        prices: [
          {
            input: 1.75,
            cachedInput: 0.175,
            output: 14,
            priority: { input: 3.5, cachedInput: 0.35, output: 28 },
          },
        ],
      },
      'gpt-5.2-pro': { ...gpt5Window, prices: [{ input: 21, output: 168 }] },
      'gpt-5.1': {
        ...gpt5Window,
        prices: [{ input: 1.25, cachedInput: 0.125, output: 10, priority: gpt5Priority }],
      },
      'gpt-5': {
        ...gpt5Window,
        prices: [{ input: 1.25, cachedInput: 0.125, output: 10, priority: gpt5Priority }],
      },
      'gpt-5-pro': { contextWindow: 400_000, maxOutputTokens: 272_000, prices: [{ input: 15, output: 120 }] },
      'gpt-5-mini': {
        ...gpt5Window,
        prices: [
          {
            input: 0.25,
            cachedInput: 0.025,
            output: 2,
            priority: { input: 0.45, cachedInput: 0.045, output: 3.6 },
          },
        ],
      },
      'gpt-5-nano': { ...gpt5Window, prices: [{ input: 0.05, cachedInput: 0.005, output: 0.4 }] },
      'gpt-4.1': {
        ...gpt41Window,
        prices: [
          {
            input: 2,
            cachedInput: 0.5,
            output: 8,
            priority: { input: 3.5, cachedInput: 0.875, output: 14 },
            fineTuned: { input: 3, cachedInput: 0.75, output: 12 },
          },
        ],
      },
      'gpt-4.1-mini': {
        ...gpt41Window,
        prices: [
          {
            input: 0.4,
            cachedInput: 0.1,
            output: 1.6,
            priority: { input: 0.7, cachedInput: 0.175, output: 2.8 },
            fineTuned: { input: 0.8, cachedInput: 0.2, output: 3.2 },
          },
        ],
      },
      'gpt-4.1-nano': {
        ...gpt41Window,
        prices: [
          {
            input: 0.1,
            cachedInput: 0.025,
            output: 0.4,
            priority: { input: 0.2, cachedInput: 0.05, output: 0.8 },
            fineTuned: { input: 0.2, cachedInput: 0.05, output: 0.8 },
          },
        ],
      },
      'gpt-4o': {
        contextWindow: 128_000,
        maxOutputTokens: 16_384,
        prices: [
          {
            input: 2.5,
            cachedInput: 1.25,
            output: 10,
            priority: { input: 4.25, cachedInput: 2.125, output: 17 },
            fineTuned: { input: 3.75, cachedInput: 1.875, output: 15 },
          },
        ],
      },
      // The first gpt-4o snapshot kept its launch price when later snapshots became cheaper.
      'gpt-4o-2024-05-13': {
        family: 'gpt-4o',
        contextWindow: 128_000,
        maxOutputTokens: 4096,
        prices: [{ input: 5, output: 15, priority: { input: 8.75, output: 26.25 } }],
      },
      // ChatGPT's gpt-4o: its own, higher price.
      'chatgpt-4o-latest': {
        family: 'gpt-4o',
        contextWindow: 128_000,
        maxOutputTokens: 16_384,
        prices: [{ input: 5, output: 15 }],
      },
      'gpt-4o-mini': {
        contextWindow: 128_000,
        maxOutputTokens: 16_384,
        prices: [
          {
            input: 0.15,
            cachedInput: 0.075,
            output: 0.6,
            priority: { input: 0.25, cachedInput: 0.125, output: 1 },
            fineTuned: { input: 0.3, cachedInput: 0.15, output: 1.2 },
          },
        ],
      },
      'gpt-4o-audio-preview': {
        family: 'gpt-4o',
        contextWindow: 128_000,
        maxOutputTokens: 16_384,
        prices: [
          { input: 2.5, output: 10, audioInput: 100, audioOutput: 200 },
          // Audio fell 60 % with the 2024-12-17 snapshot.
          { effectiveFrom: '2024-12-17', input: 2.5, output: 10, audioInput: 40, audioOutput: 80 },
        ],
      },
      // The first audio snapshot kept the launch audio price after 2024-12-17 cut it for later snapshots.
      'gpt-4o-audio-preview-2024-10-01': {
        family: 'gpt-4o',
        contextWindow: 128_000,
        maxOutputTokens: 16_384,
        prices: [{ input: 2.5, output: 10, audioInput: 100, audioOutput: 200 }],
      },
      'gpt-audio': {
        family: 'gpt-audio',
        contextWindow: 128_000,
        maxOutputTokens: 16_384,
        prices: [{ input: 2.5, output: 10, audioInput: 32, audioOutput: 64 }],
      },
      'gpt-audio-mini': {
        family: 'gpt-audio',
        contextWindow: 128_000,
        maxOutputTokens: 16_384,
        prices: [{ input: 0.6, output: 2.4, audioInput: 10, audioOutput: 20 }],
      },
      'gpt-4o-mini-audio-preview': {
        family: 'gpt-4o-mini',
        contextWindow: 128_000,
        maxOutputTokens: 16_384,
        prices: [{ input: 0.15, output: 0.6, audioInput: 10, audioOutput: 20 }],
      },
      o1: { ...reasoningWindow, prices: [{ input: 15, cachedInput: 7.5, output: 60 }] },
      'o1-pro': { ...reasoningWindow, prices: [{ input: 150, output: 600 }] },
      'o1-mini': {
        contextWindow: 128_000,
        maxOutputTokens: 65_536,
        prices: [{ input: 1.1, cachedInput: 0.55, output: 4.4 }],
      },
      o3: {
        ...reasoningWindow,
        prices: [
          { input: 10, cachedInput: 2.5, output: 40 },
          // o3 fell 80 % on 2025-06-10.
          {
            effectiveFrom: '2025-06-10',
            input: 2,
            cachedInput: 0.5,
            output: 8,
            priority: { input: 3.5, cachedInput: 0.875, output: 14 },
          },
        ],
      },
      'o3-pro': { ...reasoningWindow, prices: [{ input: 20, output: 80 }] },
      'o3-mini': { ...reasoningWindow, prices: [{ input: 1.1, cachedInput: 0.55, output: 4.4 }] },
      'o4-mini': {
        ...reasoningWindow,
        prices: [
          {
            input: 1.1,
            cachedInput: 0.275,
            output: 4.4,
            priority: { input: 2, cachedInput: 0.5, output: 8 },
          },
        ],
      },
      'gpt-4-turbo': { contextWindow: 128_000, maxOutputTokens: 4096, prices: [{ input: 10, output: 30 }] },
      'gpt-4': { contextWindow: 8192, maxOutputTokens: 8192, prices: [{ input: 30, output: 60 }] },
      'gpt-3.5-turbo': {
        contextWindow: 16_385,
        maxOutputTokens: 4096,
        prices: [{ input: 0.5, output: 1.5 }],
      },
      // Older gpt-3.5-turbo snapshots are dearer than the current one.
      'gpt-3.5-turbo-1106': {
        contextWindow: 16_385,
        maxOutputTokens: 4096,
        prices: [{ input: 1, output: 2 }],
      },
      'gpt-3.5-turbo-0613': {
        contextWindow: 4096,
        maxOutputTokens: 4096,
        prices: [{ input: 1.5, output: 2 }],
      },
      'gpt-3.5-turbo-0301': {
        contextWindow: 4096,
        maxOutputTokens: 4096,
        prices: [{ input: 1.5, output: 2 }],
      },
      'text-embedding-3-small': { ...embeddingWindow, prices: [{ input: 0.02 }] },
      'text-embedding-3-large': { ...embeddingWindow, prices: [{ input: 0.13 }] },
      'text-embedding-ada-002': { ...embeddingWindow, prices: [{ input: 0.1 }] },
    },
    aliases: {
      'gpt-5-chat-latest': 'gpt-5',
      'gpt-5.1-chat-latest': 'gpt-5.1',
      'gpt-5.2-chat-latest': 'gpt-5.2',
      'gpt-5-codex': 'gpt-5',
      'gpt-5.1-codex': 'gpt-5.1',
      'gpt-4-turbo-preview': 'gpt-4-turbo',
      'gpt-4-1106-preview': 'gpt-4-turbo',
      'gpt-4-0125-preview': 'gpt-4-turbo',
      // Dated snapshots billed at their family's row. An unlisted snapshot is refused, not guessed.
      'gpt-5.2-2025-12-11': 'gpt-5.2',
      'gpt-5.1-2025-11-13': 'gpt-5.1',
      'gpt-5-2025-08-07': 'gpt-5',
      'gpt-5-mini-2025-08-07': 'gpt-5-mini',
      'gpt-5-nano-2025-08-07': 'gpt-5-nano',
      'gpt-5-pro-2025-10-06': 'gpt-5-pro',
      'gpt-4.1-2025-04-14': 'gpt-4.1',
      'gpt-4.1-mini-2025-04-14': 'gpt-4.1-mini',
      'gpt-4.1-nano-2025-04-14': 'gpt-4.1-nano',
      'gpt-4o-2024-08-06': 'gpt-4o',
      'gpt-4o-2024-11-20': 'gpt-4o',
      'gpt-4o-mini-2024-07-18': 'gpt-4o-mini',
      'gpt-4o-audio-preview-2024-12-17': 'gpt-4o-audio-preview',
      'gpt-4o-audio-preview-2025-06-03': 'gpt-4o-audio-preview',
      'gpt-4o-mini-audio-preview-2024-12-17': 'gpt-4o-mini-audio-preview',
      'gpt-audio-2025-08-28': 'gpt-audio',
      'gpt-audio-mini-2025-10-06': 'gpt-audio-mini',
      'o1-2024-12-17': 'o1',
      'o1-pro-2025-03-19': 'o1-pro',
      'o1-mini-2024-09-12': 'o1-mini',
      'o3-2025-04-16': 'o3',
      'o3-pro-2025-06-10': 'o3-pro',
      'o3-mini-2025-01-31': 'o3-mini',
      'o4-mini-2025-04-16': 'o4-mini',
      'gpt-4-turbo-2024-04-09': 'gpt-4-turbo',
      'gpt-4-0613': 'gpt-4',
      'gpt-4-0314': 'gpt-4',
      'gpt-3.5-turbo-0125': 'gpt-3.5-turbo',
    },
  }))()
