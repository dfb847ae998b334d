import type { LimitRule } from '../store'
import { type HoldOwner, HoldSet, type Slotted } from './hold-set'
import type { Common } from './state'

type RequestsRule = Extract<LimitRule, { kind: 'requests' }>

/** An entry's amount once it was released or reclaimed: it counts nothing and is no one's oldest. */
const REMOVED = -1

/** One reservation's unsettled entries in a requests log, by their place in it. */
export interface RequestsHold extends Slotted {
  /** The absolute place (see {@link RequestsState.base}) of its first entry. */
  index: number
  /** The places of further entries of a repeated charge, if any (rare). */
  extra: number[] | null
  /** How many of its entries are still in the window. */
  live: number
}

/**
 * A requests limit's state: a sliding log over the window, kept as parallel arrays (times, amounts,
 * the hold of an unsettled entry), so a logged request costs no object of its own however long the
 * window is.
 *
 * @example
 * ```ts
 * const state: RequestsState = freshRequests('user:u1', 'rpm')
 * ```
 */
export interface RequestsState extends Common {
  kind: 'requests'
  /** When each entry was logged, in order from `head`. */
  times: number[]
  /** What each entry counts; {@link REMOVED} once released or reclaimed (a tombstone until it ages out). */
  amounts: number[]
  /** The hold of each unsettled entry; null once settled or removed. */
  owners: (RequestsHold | null)[]
  head: number
  /** How many entries compaction cut from the front: absolute place = base + index in the arrays. */
  base: number
  total: number
  settledSum: number
  /** Holds of unsettled entries, one per reservation. */
  pending: HoldSet<RequestsHold>
}

/**
 * The arrays of an empty log, shared and never written: a state gets arrays of its own with its first
 * entry, sized for it (an array grown by a push keeps room for 16 more, most of it unused in a store of
 * many tenants calling now and then).
 */
const emptyLog: readonly never[] = /* @__PURE__ */ Object.freeze([])

/** An empty requests state. */
export function freshRequests(scope: string, policy: string): RequestsState {
  return {
    kind: 'requests',
    times: emptyLog as unknown as number[],
    amounts: emptyLog as unknown as number[],
    owners: emptyLog as unknown as (RequestsHold | null)[],
    head: 0,
    base: 0,
    total: 0,
    settledSum: 0,
    pending: new HoldSet(),
    minLease: Number.POSITIVE_INFINITY,
    scope,
    policy,
    period: null,
    sibling: null,
    prev: null,
    next: null,
    stamp: 0,
    kept: false,
    gone: false,
  }
}

/** A deep copy of the live part of the log, with copies of its holds. */
export function cloneRequests(state: RequestsState): RequestsState {
  const copies = new Map<RequestsHold, RequestsHold>()
  const pending = new HoldSet<RequestsHold>()
  for (const hold of state.pending.toArray()) {
    const copy: RequestsHold = { ...hold, extra: hold.extra && [...hold.extra], slot: -1 }
    copies.set(hold, copy)
    pending.add(copy)
  }
  const owners = state.owners.slice(state.head).map((owner) => (owner && copies.get(owner)) ?? null)
  return {
    ...state,
    times: state.times.slice(state.head),
    amounts: state.amounts.slice(state.head),
    owners,
    base: state.base + state.head,
    head: 0,
    pending,
  }
}

/** Drop the entries that left the window, and compact the log when mostly dropped. */
export function applyRequestsTime(state: RequestsState, rule: RequestsRule, at: number): void {
  const cutoff = at - rule.windowMs
  const { times, amounts, owners } = state
  let head = state.head
  while (head < times.length && (times[head] as number) <= cutoff) {
    const amount = amounts[head] as number
    const owner = owners[head] as RequestsHold | null
    if (amount !== REMOVED) {
      state.total -= amount
      if (owner === null) state.settledSum -= amount
    }
    // an unsettled entry leaving the window ends with it; its reservation's hold goes with its last one
    if (owner !== null) {
      owners[head] = null
      if (--owner.live === 0 && state.pending.has(owner)) state.pending.remove(owner)
    }
    head++
  }
  state.head = head
  if (head > 64 && head * 2 > times.length) {
    state.times = times.slice(head)
    state.amounts = amounts.slice(head)
    state.owners = owners.slice(head)
    state.base += head
    state.head = 0
  }
}

/** The time of the oldest entry still counted, or undefined. */
export function firstEntryAt(state: RequestsState): number | undefined {
  for (let index = state.head; index < state.times.length; index++) {
    if (state.amounts[index] !== REMOVED) return state.times[index]
  }
  return undefined
}

/** Log `amount` for `owner`, joining `prev` (the reservation's hold here) when it is still pending. */
export function addEntry(
  state: RequestsState,
  owner: HoldOwner,
  amount: number,
  at: number,
  prev: RequestsHold | null,
): RequestsHold {
  const index = state.base + state.times.length
  let hold: RequestsHold
  if (prev !== null && state.pending.has(prev)) {
    hold = prev
    if (hold.extra === null) hold.extra = [index]
    else hold.extra.push(index)
    hold.live++
  } else {
    hold = { owner, slot: -1, index, extra: null, live: 1 }
    state.pending.add(hold)
  }
  if (state.times.length === 0) {
    // (an empty log has head 0: head never passes the end)
    state.times = [at]
    state.amounts = [amount]
    state.owners = [hold]
  } else {
    state.times.push(at)
    state.amounts.push(amount)
    state.owners.push(hold)
  }
  state.total += amount
  return hold
}

/** End one entry of `hold` at absolute place `index`, if it is still in the window and the hold's. */
function endEntry(state: RequestsState, hold: RequestsHold, index: number, settle: boolean): void {
  const local = index - state.base
  if (local < state.head || state.owners[local] !== hold) return
  state.owners[local] = null
  const amount = state.amounts[local] as number
  if (settle) state.settledSum += amount
  else {
    state.total -= amount
    state.amounts[local] = REMOVED
  }
}

/**
 * End the unsettled entries of `id` (`hint` when it is still pending): settled ones stay counted,
 * others are dropped. Answers whether there were any.
 */
export function endEntries(
  state: RequestsState,
  id: string,
  settle: boolean,
  hint: RequestsHold | null,
): boolean {
  const hold = state.pending.has(hint) ? hint : state.pending.find(id)
  if (!hold) return false
  state.pending.remove(hold)
  endEntry(state, hold, hold.index, settle)
  if (hold.extra !== null) for (const index of hold.extra) endEntry(state, hold, index, settle)
  return true
}

/** When `amount` more fits, with `taken` already held by this reservation. */
export function requestsRetryAfter(
  state: RequestsState,
  rule: RequestsRule,
  amount: number,
  taken: number,
  at: number,
): number {
  let need = state.total + taken + amount - rule.limit
  for (let index = state.head; index < state.times.length; index++) {
    const entry = state.amounts[index] as number
    if (entry === REMOVED) continue
    need -= entry
    if (need <= 0) return Math.max(0, (state.times[index] as number) + rule.windowMs - at)
  }
  return rule.windowMs
}

/** What a new reservation may still take under `limit`, after `taken` already held by it. */
export function requestsRemaining(state: RequestsState, limit: number, taken: number): number {
  return Math.max(0, limit - state.total - taken)
}
