import { classifyOpenAIError } from '../errors/classify-openai-error'
import { type Cost, costOfUsage } from '../estimate/cost-of-usage'
import type { RequestEstimate } from '../estimate/estimate-request'
import type { RequestScope } from '../limits/limit-policy'
import type { ChargeState } from '../limits/store'
import { priceOptions } from './estimate-options'
import type { SettleEvent } from './keyguard-events'
import { recordEntries, settleEntries } from './keyguard-ledger'
import { scrub } from './scrub-error'
import { handleStoreEvents, type Shared } from './shared'
import type { TappedUsage } from './tap-usage'

/** One guarded call to settle, as {@link settleUsage} takes it (the store's own input is `SettleInput`). */
export interface SettleUsageInput {
  scope: RequestScope
  endpoint: string
  estimate: RequestEstimate | null
  reservationId: string | undefined
  tapped: TappedUsage
  /** When the call was reserved: selects the price row in force. */
  startedAt: number
  /** Charge the whole hold, unread: a fixed price set in code, or a background response (estimated). */
  chargeHold?: 'fixed' | 'background' | undefined
  /** OpenAI's `x-request-id`, for the ledger. */
  upstreamRequestId?: string | undefined
}

export async function settleUsage(shared: Shared, input: SettleUsageInput): Promise<SettleEvent> {
  const { options, emitter } = shared
  const { estimate, tapped, scope, endpoint, reservationId } = input
  let cost: Cost | null = null
  let estimated = false
  let costNanos = 0
  let tokens = 0
  if (tapped.streamError !== undefined) {
    try {
      const error = classifyOpenAIError({ body: tapped.streamError }, { secrets: options.secrets })
      emitter.emit({ type: 'upstream-error', scope, endpoint, error })
    } catch {}
  }
  if (estimate && input.chargeHold) {
    costNanos = estimate.maxCostNanos
    tokens = estimate.inputTokens + estimate.maxOutputTokens
    estimated = input.chargeHold === 'background'
  } else if (estimate) {
    // The tier the response reports; else the one the hold was priced at (the request's, else the project
    // default keyguard assumed), never a cheaper guess.
    const serviceTier = tapped.serviceTier ?? estimate.serviceTier
    const prices = priceOptions(options, input.startedAt, serviceTier || undefined)
    try {
      if (tapped.usage !== undefined) cost = costOfUsage(estimate.model, tapped.usage, prices)
      else {
        // No usage (aborted, broken, cut or usage-less stream): charge the prompt and the output seen,
        // never more than the hold.
        estimated = true
        const output = tapped.outputTokens ?? tapped.deltas
        cost = costOfUsage(estimate.model, usedSoFar(estimate, output), prices)
      }
      costNanos = cost.totalNanos
      tokens = cost.tokens.total
    } catch (error) {
      // Fail closed: what cannot be priced is charged at the reserved maximum.
      estimated = true
      costNanos = estimate.maxCostNanos
      tokens = estimate.inputTokens + estimate.maxOutputTokens
      options.logger.warn('keyguard: could not price the usage; charged the reserved maximum', {
        model: estimate.model,
        error: scrub(error, options),
      })
    }
  }
  let states: ChargeState[] = []
  let settled = reservationId === undefined
  if (reservationId !== undefined) {
    try {
      const result = await options.store.settle({ id: reservationId, actual: { costNanos, tokens } })
      states = result.states
      settled = result.status === 'settled'
      handleStoreEvents(shared, result.events)
    } catch (error) {
      options.logger.error('keyguard: settling failed; the lease will reclaim the hold as spent', {
        reservationId,
        error: scrub(error, options),
      })
    }
  }
  const event = settleEventOf({
    scope,
    endpoint,
    estimate,
    cost,
    costNanos,
    estimated,
    ending: tapped.ending,
    states,
    reservationId,
  })
  emitter.emit(event)
  if (options.ledger) recordSettle(shared, input, event, settled)
  return event
}

/** Hand the settled call (and the credits it consumed) to the ledger, if one is configured. */
function recordSettle(shared: Shared, input: SettleUsageInput, event: SettleEvent, settled: boolean): void {
  const { options } = shared
  recordEntries(options, () => {
    const keyName = input.scope.key ?? options.defaultKey
    return settleEntries(event, {
      keyName,
      fingerprint: options.keys.get(keyName).fingerprint,
      startedAt: input.startedAt,
      settledAt: options.now(),
      upstreamRequestId: input.upstreamRequestId,
      settled,
    })
  })
}

export function usedSoFar(estimate: RequestEstimate, deltas: number): Record<string, number> {
  const output = Math.min(deltas, estimate.maxOutputTokens)
  const total = estimate.inputTokens + output
  if (estimate.endpoint === '/v1/responses')
    return { input_tokens: estimate.inputTokens, output_tokens: output, total_tokens: total }
  if (estimate.endpoint === '/v1/embeddings')
    return { prompt_tokens: estimate.inputTokens, total_tokens: estimate.inputTokens }
  return { prompt_tokens: estimate.inputTokens, completion_tokens: output, total_tokens: total }
}

export function settleEventOf(input: {
  scope: RequestScope
  endpoint: string
  ending: SettleEvent['ending']
  estimate?: RequestEstimate | null
  cost?: Cost | null
  costNanos?: number
  estimated?: boolean
  states?: ChargeState[]
  reservationId?: string | undefined
}): SettleEvent {
  return {
    type: 'settle',
    scope: input.scope,
    reservationId: input.reservationId ?? '',
    endpoint: input.endpoint,
    model: input.estimate?.model,
    estimate: input.estimate ?? null,
    cost: input.cost ?? null,
    costNanos: input.costNanos ?? 0,
    estimated: input.estimated ?? false,
    ending: input.ending,
    states: input.states ?? [],
  }
}
