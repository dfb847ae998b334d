import { KeyguardError } from '../../errors/keyguard-error'
import { forgettable } from './forgettable'
import { type Linked, LinkedList, unlink } from './linked-list'
import { hasHolds, type State } from './state'

/** How many states of ended periods {@link StateTable.expire} drops per call, so no call stalls. */
const EXPIRE_BATCH = 1024

/**
 * The memory store's states by scope, then by policy (and period), bounded two ways. The map holds one
 * entry per scope, the first of its states, the others chained through `sibling`: a lookup hashes the
 * scope once for all the charges of a call and builds no key string. States that may go (rate states, and money
 * states holding nothing) sit in one least-recently-used list; beyond `maxKeys` the oldest without
 * holds is dropped, one per new state, in O(1). Money states (spend and credits that hold or held
 * money) are kept apart, never dropped to save memory, and at most `maxMoneyStates` of them: a
 * reservation or adjust that would keep one more is refused. A period's spend states leave once it ends.
 *
 * @example
 * ```ts
 * const table = stateTable({ maxKeys: 100_000, maxMoneyStates: 1_000_000 })
 * table.begin()
 * const state = table.get(scope, policy, null) ?? table.add(fresh(rule, at, scope, policy), undefined, at)
 * ```
 */
export function stateTable({ maxKeys, maxMoneyStates }: { maxKeys: number; maxMoneyStates: number }) {
  const scopes = new Map<string, State>()
  // states in the table, kept or not
  let size = 0
  // may go: least recently used first
  const idle = new LinkedList<State>()
  // kept money: credits, and spend by the end of its period
  const balances = new LinkedList<State>()
  const periods = new Map<number, LinkedList<State>>()
  let nextEnd = Number.POSITIVE_INFINITY
  let kept = 0
  let stamp = 0
  // the first stamp of the operation in progress: a state it loaded may be about to take a hold, so
  // eviction never picks it (that would strand the hold on a state no longer in the map)
  let operationStart = 1

  /** Put a state that is not kept at the end of the LRU, marked used by this operation. */
  const toIdle = (state: State): void => {
    state.stamp = ++stamp
    if (state.prev !== null) unlink(state as Linked)
    idle.push(state)
  }

  /** Take a kept state out of the money count; it stays in the map. */
  const unkeep = (state: State): void => {
    unlink(state as Linked)
    state.kept = false
    kept--
  }

  const drop = (state: State): void => {
    if (state.kept) unkeep(state)
    else if (state.prev !== null) unlink(state as Linked)
    const first = scopes.get(state.scope)
    if (first === state) {
      if (state.sibling === null) scopes.delete(state.scope)
      else scopes.set(state.scope, state.sibling)
      size--
    } else if (first !== undefined) {
      let before = first
      while (before.sibling !== null && before.sibling !== state) before = before.sibling
      if (before.sibling === state) {
        before.sibling = state.sibling
        size--
      }
    }
    state.sibling = null
    state.gone = true
  }

  /** Drop the least recently used states that may go until at most `maxKeys` are not kept. */
  const evict = (at: number): void => {
    while (size - kept > maxKeys) {
      const oldest = idle.first()
      if (oldest === null || oldest.stamp >= operationStart) return
      if (forgettable(oldest, at)) drop(oldest)
      // held: out of the list until it is used again (its holds end through a call that uses it)
      else unlink(oldest as Linked)
    }
  }

  const keep = (state: State): void => {
    if (state.prev !== null) unlink(state as Linked)
    state.kept = true
    kept++
    if (state.kind !== 'spend') {
      balances.push(state)
      return
    }
    let period = periods.get(state.endsAt)
    if (period === undefined) {
      period = new LinkedList<State>()
      periods.set(state.endsAt, period)
      if (state.endsAt < nextEnd) nextEnd = state.endsAt
    }
    period.push(state)
  }

  const table = {
    /** The state at `(scope, policy, period)` (see `periodOf`), or undefined. */
    get(scope: string, policy: string, period: string | null): State | undefined {
      let state = scopes.get(scope) ?? null
      while (state !== null && (state.policy !== policy || state.period !== period)) state = state.sibling
      return state ?? undefined
    },

    /** Start an operation: what it loads from now on is safe from eviction until the next one. */
    begin(): void {
      operationStart = stamp + 1
    },

    /** Put a new state in the table, in place of `old` (a state of another kind), and bound the table. */
    add(state: State, old: State | undefined, at: number): State {
      if (old !== undefined) drop(old)
      const first = scopes.get(state.scope)
      // the newest first: a scope's states are few, and the one just made is the likeliest asked for
      state.sibling = first ?? null
      scopes.set(state.scope, state)
      size++
      toIdle(state)
      evict(at)
      return state
    },

    /** Mark a state in the map used by this operation. */
    touch(state: State): void {
      if (state.kept) state.stamp = ++stamp
      else toIdle(state)
    },

    /**
     * Keep `count` money states of `loaded` (duplicates and states already kept count once) for an
     * operation about to put money in them, or throw `store.misconfigured` when that would keep more
     * than `maxMoneyStates`; then nothing is kept.
     */
    keepMoney(
      loaded: readonly State[],
      count: number,
      at: number,
      charges: readonly { scope: string }[],
    ): void {
      let needed = 0
      let scope = ''
      for (let i = 0; i < count; i++) {
        const state = loaded[i] as State
        if (state.kind !== 'spend' && state.kind !== 'credits') continue
        if (state.kept || loaded.indexOf(state) !== i) continue
        if (needed++ === 0) scope = (charges[i] as { scope: string }).scope
      }
      if (needed === 0) return
      if (kept + needed > maxMoneyStates) table.expire(at, kept + needed - maxMoneyStates)
      if (kept + needed > maxMoneyStates) throw moneyFull(maxMoneyStates, scope)
      for (let i = 0; i < count; i++) {
        const state = loaded[i] as State
        if ((state.kind === 'spend' || state.kind === 'credits') && !state.kept) keep(state)
      }
    },

    /** After holds of a money state ended: once it holds no money, it is no longer kept. */
    settled(state: State, at: number): void {
      if (state.kept && !state.gone && forgettable(state, at)) {
        unkeep(state)
        toIdle(state)
      }
    },

    /**
     * Stop keeping spend states whose period ended by `at`: at most {@link EXPIRE_BATCH} (or `atLeast`)
     * a call, so the end of a month costs no call more than a batch. Those still held wait in the LRU.
     */
    expire(at: number, atLeast = 0): void {
      let budget = Math.max(EXPIRE_BATCH, atLeast)
      while (nextEnd <= at && budget > 0) {
        const period = periods.get(nextEnd) as LinkedList<State>
        for (let state = period.first(); state !== null && budget > 0; state = period.first(), budget--) {
          unkeep(state)
          if (hasHolds(state) || state.stamp >= operationStart) toIdle(state)
          else drop(state)
        }
        if (period.first() !== null) return
        periods.delete(nextEnd)
        nextEnd = Math.min(Number.POSITIVE_INFINITY, ...periods.keys())
      }
    },
  }
  return table
}

/** The table of one memory store. */
export type StateTable = ReturnType<typeof stateTable>

const moneyFull = (maxMoneyStates: number, scope: string): KeyguardError =>
  new KeyguardError({
    code: 'store.misconfigured',
    message: `memoryStore keeps at most ${maxMoneyStates} spend and credits states (maxMoneyStates), all in use, and never forgets money: refused a new one for ${scope}`,
    operatorHint:
      'raise memoryStore({ maxMoneyStates }) (see its memory per state in the @keyguard/core README), or use @keyguard/redis or @keyguard/postgres for this many tenants',
    details: { option: 'maxMoneyStates', maxMoneyStates, scope },
  })
