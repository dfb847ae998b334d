import { isKeyguardError, KeyguardError } from '../errors/keyguard-error'
import { estimateRequest, type RequestEstimate } from '../estimate/estimate-request'
import { chargesFor, usageScoped } from '../limits/charges-for'
import { denialToError } from '../limits/denial-to-error'
import type { RequestScope } from '../limits/limit-policy'
import type { ChargeState, Denial } from '../limits/store'
import { estimateOptions } from './estimate-options'
import { affordableOutputTokens, minClampedOutputTokens, outputBoundField } from './output-bound'
import { asKeyguardError, scrub } from './scrub-error'
import { handleStoreEvents, type Shared } from './shared'

/** A prepared request, as {@link reserveRequest} takes it and (clamped) gives it back (the store's own input is `ReserveInput`). */
export interface ReserveRequestInput {
  scope: RequestScope
  endpoint: string
  json: Record<string, unknown> | undefined
  estimate: RequestEstimate | null
  bodyText: string | undefined
  startedAt: number
}

/** A refusal (with the denial, if a limit denied), or the hold and the request it covers. */
export type RequestReservation =
  | { refusal: KeyguardError; denial?: Denial }
  | {
      reservationId: string | undefined
      states: ChargeState[]
      json: Record<string, unknown> | undefined
      estimate: RequestEstimate | null
      bodyText: string | undefined
      /** The output bound the request was clamped to (`output.onInsufficientBudget: 'clamp'`). */
      clampedTo: number | undefined
    }

/**
 * Reserve every limit a request touches in one store operation; with `output.onInsufficientBudget: 'clamp'`,
 * a spend or credits denial lowers the output bound to what the budget can pay for and tries once more.
 *
 * @example
 * ```ts
 * const reserved = await reserveRequest(shared, { scope, endpoint, json, estimate, bodyText, startedAt })
 * if ('refusal' in reserved) return refuse(reserved.refusal, reserved.denial)
 * ```
 */
export async function reserveRequest(
  shared: Shared,
  input: ReserveRequestInput,
): Promise<RequestReservation> {
  const { options, emitter } = shared
  const { scope, endpoint, startedAt } = input
  let { json, estimate, bodyText } = input
  const reserve = async (
    current: RequestEstimate | null,
  ): Promise<{ id?: string; states: ChargeState[] } | { refusal: KeyguardError; denial?: Denial }> => {
    try {
      const amount = current
        ? { costNanos: current.maxCostNanos, tokens: current.inputTokens + current.maxOutputTokens }
        : usageScoped
      const charges = await chargesFor(options.limits, scope, amount, startedAt)
      if (charges.length === 0) return { states: [] }
      const id = crypto.randomUUID()
      const result = await options.store.reserve({ id, charges, leaseMs: options.leaseMs })
      handleStoreEvents(shared, result.events)
      if (result.ok) return { id, states: result.states }
      return { refusal: denialToError(result.denial), denial: result.denial }
    } catch (error) {
      if (isKeyguardError(error)) return { refusal: error }
      return {
        refusal: new KeyguardError({
          code: 'store.unavailable',
          message: `the limit store failed to reserve: ${scrub(error, options)}`,
          operatorHint:
            'check the store (Redis reachable, credentials, latency); keyguard fails closed while it is down',
          cause: error,
        }),
      }
    }
  }
  let reserved = await reserve(estimate)
  let clampedTo: number | undefined
  if (
    'refusal' in reserved &&
    options.onInsufficientBudget === 'clamp' &&
    json &&
    estimate &&
    (reserved.denial?.kind === 'spend' || reserved.denial?.kind === 'credits')
  ) {
    // Lower the output bound to what the remaining budget can pay for, and try once more.
    const bound = affordableOutputTokens(estimate, reserved.denial.remaining, options, json, startedAt)
    const field = outputBoundField(endpoint, json)
    if (field && bound >= minClampedOutputTokens) {
      const previous = estimate.maxOutputTokens
      json = { ...json, [field]: bound }
      bodyText = JSON.stringify(json)
      try {
        estimate = await estimateRequest(
          endpoint,
          json,
          estimateOptions(options, startedAt, json.service_tier),
        )
      } catch (error) {
        return { refusal: asKeyguardError(error, options) }
      }
      reserved = await reserve(estimate)
      if (!('refusal' in reserved) && estimate) {
        clampedTo = bound
        emitter.emit({
          type: 'clamped',
          scope,
          endpoint,
          previousMaxOutputTokens: previous,
          maxOutputTokens: estimate.maxOutputTokens,
        })
      }
    }
  }
  if ('refusal' in reserved) return reserved
  return { reservationId: reserved.id, states: reserved.states, json, estimate, bodyText, clampedTo }
}

/**
 * Return a hold unspent; a store failure is logged, and the lease reclaims the hold.
 *
 * @example
 * ```ts
 * await releaseReservation(shared, reservationId)
 * ```
 */
export async function releaseReservation(shared: Shared, reservationId: string | undefined): Promise<void> {
  const { options } = shared
  if (reservationId === undefined) return
  try {
    await options.store.release(reservationId)
  } catch (error) {
    options.logger.warn('keyguard: releasing a hold failed; its lease will reclaim it', {
      reservationId,
      error: scrub(error, options),
    })
  }
}
