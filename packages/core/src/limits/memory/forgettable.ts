import { hasHolds, type State } from './state'

/**
 * Whether dropping a state to bound memory is safe. Rate states without holds may go (the LRU over
 * scopes trades a little rate accuracy for memory). Money never goes: spend only once its period has
 * ended or when nothing was spent, credits only when the state holds no grant, debt or history, since a
 * dropped balance would be a customer's prepaid money lost and a dropped spend would mint budget.
 *
 * @example
 * ```ts
 * forgettable(fresh({ kind: 'concurrency', limit: 2 }, 0, 'k'), 0) // true
 * ```
 */
export function forgettable(state: State, at: number): boolean {
  if (hasHolds(state)) return false
  if (state.kind === 'spend') {
    return state.endsAt <= at || (state.spent === 0 && state.bonus === 0 && !state.adjustKeys?.size)
  }
  if (state.kind === 'credits') {
    return (
      state.grants.length === 0 &&
      state.debt === 0 &&
      state.consumed === 0 &&
      state.pending === null &&
      state.recharges === null &&
      !state.adjustKeys?.size
    )
  }
  return true
}
