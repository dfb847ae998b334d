import { KeyguardError } from '../errors/keyguard-error'
import { toOpenAIErrorBody } from '../errors/to-openai-error-body'
import type { RequestEstimate } from '../estimate/estimate-request'
import type { RequestScope } from '../limits/limit-policy'
import { modelInfo } from '../pricing/model-info'
import { namesOutputBound } from './output-bound'
import { chatEndpoint } from './read-request'
import type { Shared } from './shared'
import type { StreamCut } from './tap-usage'

/**
 * The cut for a stream whose output only the hold bounds (`output.default.enforce: 'stream-cut'`): `undefined` when the request
 * names its own bound, which OpenAI enforces.
 */
export async function streamCutFor(
  shared: Shared,
  input: {
    scope: RequestScope
    endpoint: string
    estimate: RequestEstimate
    json: Record<string, unknown>
    reservationId: string
    startedAt: number
  },
): Promise<StreamCut | undefined> {
  const { options, emitter } = shared
  const { scope, endpoint, estimate, json, reservationId } = input
  const api = endpoint === chatEndpoint ? 'chat' : endpoint === '/v1/responses' ? 'responses' : undefined
  if (!api || namesOutputBound(endpoint, json)) return undefined
  // An exact counter is already loaded (the estimate used it); a byte bound would cut English text at
  // about a quarter of the bound, so without an exact one each text-carrying delta counts as 1 token.
  let count: ((text: string) => number) | undefined
  if (options.deltaCounter.exact) {
    try {
      const encoding = modelInfo(estimate.model, options.prices, new Date(input.startedAt)).encoding
      count = await options.deltaCounter.forEncoding(encoding)
    } catch {
      count = undefined
    }
  }
  const maxOutputTokens = estimate.maxOutputTokens
  return {
    maxOutputTokens,
    api,
    count,
    onCut(outputTokens) {
      const error = new KeyguardError({
        code: 'budget.hard_limit',
        message: `the stream passed the ${maxOutputTokens} output tokens its hold covers and was cut (output.default.enforce: 'stream-cut')`,
        userMessage:
          'The answer was cut short: it reached the most output this request’s budget can pay for.',
        operatorHint:
          "set max_completion_tokens / max_output_tokens on the request, raise output.default.maxTokens, or set output.default.enforce: 'forward' so OpenAI stops at the bound itself",
        retryable: false,
        details: { maxOutputTokens, outputTokens, reservationId },
      })
      emitter.emit({
        type: 'stream-cut',
        scope,
        endpoint,
        reservationId,
        model: estimate.model,
        maxOutputTokens,
        outputTokens,
        error,
      })
      return toOpenAIErrorBody(error).error
    },
  }
}
