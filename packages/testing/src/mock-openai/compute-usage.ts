import { isRecord } from './is-record'
import type { MockUsage } from './mock-response'

/** The token counts of one answer. */
export interface TokenCounts {
  prompt: number
  completion: number
  cached: number
  reasoning: number
}

/** The reply cut into output tokens, and what it counts; see {@link computeUsage}. */
export interface ComputedUsage {
  /** The reply's output tokens (about one a word), cut to the request's output limit. */
  pieces: string[]
  /** The output limit cut the reply. */
  truncated: boolean
  counts: TokenCounts
}

/**
 * Count one answer's tokens the way the mock reports them: the prompt roughly counted from the request
 * (one token per four characters plus per-message overhead), one output token a word up to
 * `max_completion_tokens` / `max_tokens` / `max_output_tokens`, and any count in `usage` given instead.
 *
 * @example
 * ```ts
 * const { pieces, truncated, counts } = computeUsage('/v1/chat/completions', { messages }, {}, 'Hello there')
 * ```
 */
export function computeUsage(
  path: string,
  fields: Record<string, unknown>,
  usage: MockUsage,
  reply: string,
): ComputedUsage {
  const prompt = usage.promptTokens ?? countPromptTokens(path, fields)
  const maxOutput = firstNumber(fields.max_completion_tokens, fields.max_tokens, fields.max_output_tokens)
  let pieces = splitPieces(reply)
  const truncated = maxOutput !== undefined && pieces.length > maxOutput
  if (truncated) pieces = pieces.slice(0, maxOutput)
  const completion = usage.completionTokens ?? (path === '/v1/embeddings' ? 0 : pieces.length)
  return {
    pieces,
    truncated,
    counts: {
      prompt,
      completion,
      cached: usage.cachedTokens ?? 0,
      reasoning: usage.reasoningTokens ?? 0,
    },
  }
}

/**
 * The `usage` object of a chat completion (JSON body and the last stream chunk).
 *
 * @example
 * ```ts
 * chatUsage({ prompt: 12, completion: 3, cached: 0, reasoning: 0 }).total_tokens // 15
 * ```
 */
export function chatUsage(counts: TokenCounts) {
  return {
    prompt_tokens: counts.prompt,
    completion_tokens: counts.completion,
    total_tokens: counts.prompt + counts.completion,
    prompt_tokens_details: { cached_tokens: counts.cached, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: counts.reasoning,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  }
}

/**
 * The text of a message, a content part or a list of them, parts joined by spaces.
 *
 * @example
 * ```ts
 * textOf({ role: 'user', content: [{ type: 'text', text: 'Hi' }] }) // 'Hi'
 * ```
 */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return value.map(textOf).join(' ')
  if (isRecord(value)) {
    if (typeof value.text === 'string') return value.text
    if ('content' in value) return textOf(value.content)
  }
  return ''
}

function firstNumber(...values: unknown[]): number | undefined {
  for (const value of values) if (typeof value === 'number' && Number.isFinite(value)) return value
  return undefined
}

/** About one token per word, as the mock counts output. */
function splitPieces(text: string): string[] {
  return text.match(/\s*\S+/g) ?? []
}

/** A rough, deterministic count: one token per four characters, plus per-message overhead. */
function roughTokens(text: string): number {
  return Math.ceil(text.length / 4)
}

function countPromptTokens(path: string, fields: Record<string, unknown>): number {
  if (path === '/v1/embeddings') {
    const input = fields.input
    const items = Array.isArray(input) ? input : [input]
    return items.reduce<number>(
      (sum, item) =>
        sum + (typeof item === 'string' ? roughTokens(item) : Array.isArray(item) ? item.length : 0),
      0,
    )
  }
  if (path === '/v1/responses') {
    const input = fields.input
    const messages = Array.isArray(input) ? input : [input]
    const instructions = typeof fields.instructions === 'string' ? roughTokens(fields.instructions) + 4 : 0
    return (
      instructions + messages.reduce<number>((sum, message) => sum + 4 + roughTokens(textOf(message)), 0) + 3
    )
  }
  const messages = Array.isArray(fields.messages) ? fields.messages : []
  return messages.reduce<number>((sum, message) => sum + 4 + roughTokens(textOf(message)), 0) + 3
}
