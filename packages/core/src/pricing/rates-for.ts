import type { PriceRow, Rates } from './define-prices'

/** How a request is billed: the tier the response reports, and whether it ran through the Batch API. */
export interface BillingMode {
  /** `service_tier` as OpenAI reports it: `default`, `auto`, `flex`, `priority`, `scale`. */
  serviceTier?: string | null | undefined
  batch?: boolean | undefined
}

/**
 * The rates that apply to one request: Batch, else the service tier's, with the long-context tier
 * replacing them when the input is over its threshold.
 */
export function ratesFor(row: PriceRow, mode: BillingMode, inputTokens: number): Rates {
  if (mode.batch) return row.batch
  if (mode.serviceTier === 'flex') return row.flex
  if (mode.serviceTier === 'priority') return row.priority
  if (row.longContext && inputTokens > row.longContext.above) return row.longContext
  return row.standard
}
