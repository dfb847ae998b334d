import { costOfUsage } from '../estimate/cost-of-usage'
import type { RequestEstimate } from '../estimate/estimate-request'
import { priceOptions } from './estimate-options'
import type { ResolvedOptions } from './keyguard-options'
import { chatEndpoint } from './read-request'
import { usedSoFar } from './settle-usage'

export const minClampedOutputTokens = 16

/** Whether the request itself bounds its output (`max_completion_tokens`, `max_tokens`, `max_output_tokens`). */
export function namesOutputBound(endpoint: string, json: Record<string, unknown>): boolean {
  const named = (value: unknown) => typeof value === 'number' && Number.isInteger(value) && value >= 0
  if (endpoint === '/v1/responses') return named(json.max_output_tokens)
  return named(json.max_completion_tokens) || named(json.max_tokens)
}

/** The request field that bounds its output: the one it already uses, else the endpoint's current one. */
export function outputBoundField(endpoint: string, json: Record<string, unknown>): string | undefined {
  if (endpoint === '/v1/responses') return 'max_output_tokens'
  if (endpoint !== chatEndpoint) return undefined
  return json.max_completion_tokens === undefined && json.max_tokens !== undefined
    ? 'max_tokens'
    : 'max_completion_tokens'
}

/** How many output tokens (per choice) `remainingNanos` can pay for, after the prompt; 0 when none. */
export function affordableOutputTokens(
  estimate: RequestEstimate,
  remainingNanos: number,
  options: ResolvedOptions,
  json: Record<string, unknown>,
  at: number,
): number {
  const prices = priceOptions(options, at, estimate.serviceTier)
  try {
    const input = costOfUsage(estimate.model, usedSoFar(estimate, 0), prices).totalNanos
    const full = costOfUsage(estimate.model, usedSoFar(estimate, estimate.maxOutputTokens), prices).totalNanos
    const perToken = (full - input) / Math.max(1, estimate.maxOutputTokens)
    if (perToken <= 0 || remainingNanos <= input) return 0
    const choices = typeof json.n === 'number' && json.n > 1 ? json.n : 1
    // One token of slack for the estimate's rounding up.
    return Math.max(0, Math.floor((remainingNanos - input) / perToken / choices) - 1)
  } catch {
    return 0
  }
}
