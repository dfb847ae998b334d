import { sharedWeakMap } from '../brand/shared-weak-map'
import type { RequestEstimate } from '../estimate/estimate-request'

// Keyed by the caller's RequestInit: a price set in code travels with that one call and cannot be
// set by a request header or body. Shared by every copy of keyguard in the process (a proxy built on
// one copy, a guard from another).
const prices = /* @__PURE__ */ sharedWeakMap<object, number>('fixed-prices')

/**
 * Mark one guarded call as costing `costNanos` exactly: held before it is sent and charged after,
 * whatever it used (the OpenAI proxy's opted-in endpoints, which keyguard does not price itself).
 *
 * @example
 * ```ts
 * await guard.fetch(url, withFixedPrice({ method: 'POST', body }, usd(0.04)))
 * ```
 */
export function withFixedPrice<T extends RequestInit>(init: T, costNanos: number): T {
  prices.set(init, costNanos)
  return init
}

/**
 * The fixed price of a call marked with {@link withFixedPrice}, as the estimate its hold is made from.
 *
 * @example
 * ```ts
 * const fixed = fixedEstimateOf(init, endpoint, json)
 * ```
 */
export function fixedEstimateOf(
  init: RequestInit | undefined,
  endpoint: string,
  json: Record<string, unknown> | undefined,
): RequestEstimate | undefined {
  const costNanos = init === undefined ? undefined : prices.get(init)
  if (costNanos === undefined) return undefined
  // An unpriced endpoint's body is passed on unread; a JSON text still names the model.
  const model = typeof json?.model === 'string' ? json.model : modelOfText(init?.body)
  return {
    endpoint: endpoint as RequestEstimate['endpoint'],
    // the body's model, so model-scoped limits apply to it too
    model: model ?? 'fixed-price',
    pricedAs: model ?? 'fixed-price',
    stream: false,
    inputTokens: 0,
    maxOutputTokens: 0,
    minCostNanos: costNanos,
    maxCostNanos: costNanos,
    exact: true,
    unseenInput: false,
    serviceTier: 'default',
    asOf: 'fixed-price',
  }
}

function modelOfText(body: BodyInit | null | undefined): string | undefined {
  if (typeof body !== 'string') return undefined
  try {
    const parsed: unknown = JSON.parse(body)
    const model = parsed && typeof parsed === 'object' ? (parsed as { model?: unknown }).model : undefined
    return typeof model === 'string' ? model : undefined
  } catch {
    return undefined
  }
}
