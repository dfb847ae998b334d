import type { ReserveInput } from '../store'

/** Whether `value` is a safe integer ≥ 0. */
export function isAmount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/**
 * Throw a `RangeError` naming what is wrong with a reserve's id, lease, amounts or rules.
 *
 * @example
 * ```ts
 * validateReserve({ id: '', leaseMs: 1, charges: [] }) // throws: id must be a non-empty string
 * ```
 */
export function validateReserve(input: ReserveInput): void {
  if (typeof input.id !== 'string' || input.id === '')
    throw new RangeError('reserve: id must be a non-empty string')
  if (!isAmount(input.leaseMs) || input.leaseMs < 1)
    throw new RangeError('reserve: leaseMs must be a safe integer ≥ 1')
  for (const charge of input.charges) {
    if (!isAmount(charge.amount)) {
      throw new RangeError(`reserve: amount of ${charge.scope}/${charge.policy} must be a safe integer ≥ 0`)
    }
    const rule = charge.rule
    const bad =
      (rule.kind === 'requests' &&
        (!isAmount(rule.limit) || !isAmount(rule.windowMs) || rule.windowMs < 1)) ||
      (rule.kind === 'tokens' &&
        (!isAmount(rule.capacity) || !Number.isFinite(rule.refillPerSecond) || rule.refillPerSecond < 0)) ||
      (rule.kind === 'spend' && rule.limitNanos !== null && !isAmount(rule.limitNanos)) ||
      (rule.kind === 'concurrency' && !isAmount(rule.limit))
    if (bad)
      throw new RangeError(`reserve: the ${rule.kind} rule of ${charge.scope}/${charge.policy} is invalid`)
  }
}
