import type { CostOptions } from '../estimate/cost-of-usage'
import type { EstimateOptions } from '../estimate/estimate-request'
import type { ResolvedOptions } from './keyguard-options'

/**
 * The one place a guard's price options are built: its price table, the instant (which selects the
 * price row in force) and the service tier, when known. Estimates, clamps and settlement all price with it.
 *
 * @example
 * ```ts
 * const cost = costOfUsage(estimate.model, usage, priceOptions(options, startedAt, serviceTier))
 * ```
 */
// Built by assignment, not spreads: this runs on every guarded call.
export function priceOptions(
  options: ResolvedOptions,
  at: number,
  serviceTier?: string | null | undefined,
): CostOptions {
  const built: CostOptions = { at: new Date(at) }
  if (options.prices) built.prices = options.prices
  if (typeof serviceTier === 'string') built.serviceTier = serviceTier
  return built
}

/** The estimate options of a guard at an instant. */
// Built by assignment, not spreads: this runs on every guarded call.
export function estimateOptions(
  options: ResolvedOptions,
  at: number,
  serviceTier?: unknown,
): EstimateOptions {
  const built: EstimateOptions = priceOptions(
    options,
    at,
    typeof serviceTier === 'string' ? serviceTier : undefined,
  ) as EstimateOptions
  built.defaultServiceTier = options.defaultServiceTier
  built.logger = options.logger
  if (options.counter) built.counter = options.counter
  if (options.defaultMaxOutputTokens !== undefined)
    built.defaultMaxOutputTokens = options.defaultMaxOutputTokens
  return built
}
