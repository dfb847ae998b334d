import type { LimitRule } from '../store'
import { HoldSet, type Slotted } from './hold-set'
import type { Common } from './state'

type RequestsRule = Extract<LimitRule, { kind: 'requests' }>

/** One request in a sliding log: held until settled, counted until it leaves the window. */
export interface Entry extends Slotted {
  at: number
  amount: number
  settled: boolean
  removed: boolean
  leaseEnd: number
  /** The next unsettled entry of the same reservation in this state (a repeated charge), if any. */
  next: Entry | null
  /** The first unsettled entry of the reservation in this state: the one in `pending`. */
  first: Entry
}

/**
 * A requests limit's state: a sliding log of entries over the window.
 *
 * @example
 * ```ts
 * const state: RequestsState = freshRequests('user:u1\u0000rpm')
 * ```
 */
export interface RequestsState extends Common {
  kind: 'requests'
  /** Entries in time order from `head`; removed ones stay as tombstones until they age out. */
  log: Entry[]
  head: number
  total: number
  settledSum: number
  /** Unsettled entries: each reservation's first, the rest chained through `next`. */
  pending: HoldSet<Entry>
}

/** An empty requests state. */
export function freshRequests(key: string): RequestsState {
  return {
    kind: 'requests',
    log: [],
    head: 0,
    total: 0,
    settledSum: 0,
    pending: new HoldSet(),
    minLease: Number.POSITIVE_INFINITY,
    key,
    prev: null,
    next: null,
    stamp: 0,
    kept: false,
    gone: false,
  }
}

/** A deep copy of the live part of the log, with the reservations' chains rebuilt over the copies. */
export function cloneRequests(state: RequestsState): RequestsState {
  const copies = new Map<Entry, Entry>()
  const log = state.log.slice(state.head).map((entry) => {
    const copy: Entry = { ...entry, next: null, slot: -1 }
    copy.first = copy
    copies.set(entry, copy)
    return copy
  })
  const pending = new HoldSet<Entry>()
  for (const first of state.pending.items) {
    let tail: Entry | null = null
    for (let entry: Entry | null = first; entry; entry = entry.next) {
      const copy = copies.get(entry)
      if (!copy) continue
      if (tail === null) pending.add(copy)
      else tail.next = copy
      copy.first = tail === null ? copy : tail.first
      tail = copy
    }
  }
  return { ...state, log, head: 0, pending }
}

/** Drop the entries that left the window, and compact the log when mostly tombstones. */
export function applyRequestsTime(state: RequestsState, rule: RequestsRule, at: number): void {
  const cutoff = at - rule.windowMs
  while (state.head < state.log.length) {
    const entry = state.log[state.head] as Entry
    if (entry.at > cutoff) break
    if (!entry.removed) {
      if (!entry.settled) unchain(state, entry)
      dropEntry(state, entry)
    }
    state.head++
  }
  if (state.head > 64 && state.head * 2 > state.log.length) {
    state.log = state.log.slice(state.head)
    state.head = 0
  }
}

/** Take an unsettled entry out of its reservation's chain in `pending`. */
function unchain(state: RequestsState, entry: Entry): void {
  const first = entry.first
  if (first === entry) {
    const next = entry.next
    if (next) {
      state.pending.replace(entry, next)
      for (let cur: Entry | null = next; cur; cur = cur.next) cur.first = next
    } else if (state.pending.has(entry)) state.pending.remove(entry)
  } else {
    for (let cur: Entry | null = first; cur; cur = cur.next) {
      if (cur.next === entry) {
        cur.next = entry.next
        break
      }
    }
  }
  entry.next = null
  entry.first = entry
}

/** Take an entry out of the counts (it stays in the log as a tombstone). */
function dropEntry(state: RequestsState, entry: Entry): void {
  if (entry.removed) return
  entry.removed = true
  state.total -= entry.amount
  if (entry.settled) state.settledSum -= entry.amount
}

/** The oldest entry still counted. */
export function firstEntry(state: RequestsState): Entry | undefined {
  for (let index = state.head; index < state.log.length; index++) {
    const entry = state.log[index] as Entry
    if (!entry.removed) return entry
  }
  return undefined
}

/** Log `amount` for `id`, chained after `prev` (the reservation's first entry) when it is still pending. */
export function addEntry(
  state: RequestsState,
  id: string,
  amount: number,
  leaseEnd: number,
  at: number,
  prev: Entry | null,
): Entry {
  const entry = { id, at, amount, settled: false, removed: false, leaseEnd, next: null, slot: -1 } as Entry
  entry.first = entry
  state.log.push(entry)
  state.total += amount
  if (prev !== null && state.pending.has(prev)) {
    let last = prev
    while (last.next !== null) last = last.next
    last.next = entry
    entry.first = prev
    return prev
  }
  state.pending.add(entry)
  return entry
}

/**
 * End the unsettled entries of `id` (`first` when it is still pending): settled ones stay counted,
 * others are dropped. Answers whether there were any.
 */
export function endEntries(state: RequestsState, id: string, settle: boolean, first: Entry | null): boolean {
  const found = state.pending.has(first) ? first : state.pending.find(id)
  if (!found) return false
  state.pending.remove(found)
  for (let entry: Entry | null = found; entry; ) {
    const next: Entry | null = entry.next
    entry.next = null
    if (!settle) dropEntry(state, entry)
    else if (!entry.removed) {
      entry.settled = true
      state.settledSum += entry.amount
    }
    entry = next
  }
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
  for (let index = state.head; index < state.log.length; index++) {
    const entry = state.log[index] as Entry
    if (entry.removed) continue
    need -= entry.amount
    if (need <= 0) return Math.max(0, entry.at + rule.windowMs - at)
  }
  return rule.windowMs
}

/** What a new reservation may still take under `limit`, after `taken` already held by it. */
export function requestsRemaining(state: RequestsState, limit: number, taken: number): number {
  return Math.max(0, limit - state.total - taken)
}
