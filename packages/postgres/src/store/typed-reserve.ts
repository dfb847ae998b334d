import type { ChargeState, LimitRule, ReserveInput } from '@keyguard/core'

// The common reserve as `keyguard_reserve_typed` (migration 11) takes it: the charges as typed arrays
// instead of one JSON document, the states answered as numbers. A third less server work than
// `keyguard_reserve`, which Postgres spent compiling the expressions that took JSON apart and built it back.

/** The kinds `keyguard_reserve_typed` takes; a reserve charging another goes to `keyguard_reserve`. */
const TYPED_KINDS: ReadonlySet<LimitRule['kind']> = new Set(['requests', 'spend', 'concurrency'])

/** The function's arguments, as placeholders. */
export const TYPED_RESERVE_ARGS = '$1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10'

/**
 * The arguments of `keyguard_reserve_typed` for `input`, whose charges' state keys are `keys` and whose
 * charges as the record keeps them are `chargesJson`; `undefined` when the reserve is not its shape (a
 * kind it does not take, or a state charged twice).
 */
export function typedReserveValues(
  input: ReserveInput,
  keys: string[],
  chargesJson: string,
  sync: boolean,
): unknown[] | undefined {
  const n = input.charges.length
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
  if (n > 1 && new Set(keys).size !== n) return undefined
  return [input.id, input.leaseMs, keys, kinds, amounts, limits, windows, ends, chargesJson, sync]
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
