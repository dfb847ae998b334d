import type { EstimateOptions } from '../estimate/estimate-request'
import type { ResolvedOptions } from './keyguard-options'

/** The estimate options of a guard at an instant. */
// Built by assignment, not spreads: this runs on every guarded call.
export function estimateOptions(
  options: ResolvedOptions,
  at: number,
  serviceTier?: unknown,
): EstimateOptions {
  const built: EstimateOptions = {
    at: new Date(at),
    defaultServiceTier: options.defaultServiceTier,
    logger: options.logger,
  }
  if (options.counter) built.counter = options.counter
  if (options.prices) built.prices = options.prices
  if (options.defaultMaxOutputTokens !== undefined)
    built.defaultMaxOutputTokens = options.defaultMaxOutputTokens
  if (typeof serviceTier === 'string') built.serviceTier = serviceTier
  return built
}
