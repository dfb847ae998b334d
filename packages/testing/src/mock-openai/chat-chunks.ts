import { chatUsage, type TokenCounts } from './compute-usage'

/**
 * SSE lines for a chat completion stream; the first element is the role chunk, then one chunk per
 * piece, the finish chunk, the usage chunk when `includeUsage`, and `data: [DONE]`.
 *
 * @example
 * ```ts
 * const events = chatChunks('chatcmpl-1', created, 'gpt-4o-mini', ['Hi', ' there'], 'stop', counts, true)
 * ```
 */
export function chatChunks(
  id: string,
  created: number,
  model: string,
  pieces: string[],
  finish: string,
  counts: TokenCounts,
  includeUsage: boolean,
): string[] {
  const chunk = (choices: unknown[], usage?: unknown) =>
    `data: ${JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      service_tier: 'default',
      system_fingerprint: 'fp_mock',
      choices,
      ...(includeUsage ? { usage: usage ?? null } : {}),
    })}\n\n`
  const delta = (value: Record<string, unknown>, finishReason: string | null = null) => ({
    index: 0,
    delta: value,
    logprobs: null,
    finish_reason: finishReason,
  })
  return [
    chunk([delta({ role: 'assistant', content: '', refusal: null })]),
    ...pieces.map((piece) => chunk([delta({ content: piece })])),
    chunk([delta({}, finish)]),
    ...(includeUsage ? [chunk([], chatUsage(counts))] : []),
    'data: [DONE]\n\n',
  ]
}
