import type { ChargeState, LimitRule, ReserveInput } from '@keyguard/core'

// The common reserve as migration 11's `keyguard_reserve_one` and `keyguard_reserve_typed` take it: the
// charges as plain or typed arguments instead of one JSON document, the states answered as numbers. Less
// server work than `keyguard_reserve`, which Postgres spent compiling the expressions that took JSON apart
// and built it back.

/** The kinds the typed reserves take; a reserve charging another goes to `keyguard_reserve`. */
const TYPED_KINDS: ReadonlySet<LimitRule['kind']> = new Set(['requests', 'spend', 'concurrency'])

/** A call of `keyguard_reserve_one` or `keyguard_reserve_typed`: the function and its arguments. */
export interface TypedReserveCall {
  operation: 'reserve_one' | 'reserve_typed'
  values: unknown[]
}

/** The placeholders of both typed reserves' arguments. */
export const TYPED_RESERVE_ARGS = '$1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10'

/**
 * How to reserve `input` (its charges' state keys are `keys`, its charges as the record keeps them
 * `chargesJson`): one charge as plain arguments of `keyguard_reserve_one`, several as typed arrays of
 * `keyguard_reserve_typed`; `undefined` when the reserve is not their shape (no charge, a kind they do
 * not take, or a state charged twice), for `keyguard_reserve`.
 */
export function typedReserve(
  input: ReserveInput,
  keys: string[],
  chargesJson: string,
  sync: boolean,
): TypedReserveCall | undefined {
  const n = input.charges.length
  if (n === 0) return undefined
  const kinds: string[] = new Array(n)
  const amounts: number[] = new Array(n)
  const limits: (number | null)[] = new Array(n)
  const windows: (number | null)[] = new Array(n)
  const ends: (number | null)[] = new Array(n)
  for (let i = 0; i < n; i++) {
    const { rule, amount } = input.charges[i] as ReserveInput['charges'][number]
    if (!TYPED_KINDS.has(rule.kind)) return undefined
    kinds[i] = rule.kind
    amounts[i] = amount
    limits[i] = rule.kind === 'spend' ? rule.limitNanos : 'limit' in rule ? rule.limit : null
    windows[i] = rule.kind === 'requests' ? rule.windowMs : null
    ends[i] = rule.kind === 'spend' ? rule.period.endsAt : null
  }
  if (n === 1) {
    const values = [input.id, input.leaseMs, keys[0], kinds[0], amounts[0], limits[0], windows[0], ends[0]]
    return { operation: 'reserve_one', values: [...values, chargesJson, sync] }
  }
  if (new Set(keys).size !== n) return undefined
  return {
    operation: 'reserve_typed',
    values: [input.id, input.leaseMs, keys, kinds, amounts, limits, windows, ends, chargesJson, sync],
  }
}

/**
 * The states of an admitted typed reserve, as core reads them: `numbers` holds
 * `[limit, used, held, resetAt]` per charge, in the order of `charges`.
 */
export function typedStates(charges: ReserveInput['charges'], numbers: (number | null)[]): ChargeState[] {
  return charges.map(({ scope, policy, rule }, i) => {
    const limit = numbers[4 * i] ?? null
    const used = numbers[4 * i + 1] ?? 0
    const held = numbers[4 * i + 2] ?? 0
    const resetAt = numbers[4 * i + 3] ?? null
    const remaining = limit === null ? null : Math.max(0, limit - used - held)
    return { scope, policy, kind: rule.kind, limit, used, held, remaining, resetAt }
  })
}
