import { checkOptions } from '../config/check-options'
import type { KeyguardProblem } from '../errors/keyguard-error'
import { consume, creditEvents, grant, netOf } from './memory/credits-state'
import { denialOf } from './memory/denial-of'
import { describe, remainingOf } from './memory/describe'
import type { Hold } from './memory/hold-set'
import { objectOwners } from './memory/object-owners'
import type { RequestsHold } from './memory/requests-state'
import {
  ADJUST_KEY_MS,
  afterMoney,
  chargeCount,
  type Events,
  holdAt,
  letGo,
  policyAt,
  RETAIN_MS,
  type Reservation,
  ruleAt,
  SLOT,
  scopeAt,
  stateAt,
} from './memory/reservation'
import {
  addHold,
  applyTime,
  clone,
  endHold,
  expiredHolds,
  fresh,
  none,
  periodOf,
  removeHold,
  type State,
} from './memory/state'
import { stateTable } from './memory/state-table'
import { isAmount, validateReserve } from './memory/validate-reserve'
import type {
  AdjustInput,
  Charge,
  ChargeState,
  CreditsRule,
  KeyguardStore,
  LimitRule,
  PeekInput,
  ReleaseResult,
  ReserveInput,
  ReserveResult,
  ScopeKey,
  SettleInput,
  SettleResult,
  StoreEvent,
} from './store'

/** Options for {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** The clock, in epoch ms. @default `Date.now` */
  now?: () => number
  /**
   * Most states kept that may be forgotten: rate states (requests, tokens, concurrency) and money states
   * that hold no money. Beyond it the least recently used without live holds is dropped (it then reads
   * as fresh). Also the most finished reservation records kept (beyond it they are forgotten oldest
   * first, before their 10 minutes) and the most object owners (see `claim`). @default 100_000
   */
  maxKeys?: number
  /**
   * Most money states kept: spend states of a running period and credit balances that hold or held
   * money (about 0.3 kB each, see the README). Money is never forgotten to save memory, so once this many
   * are kept, a `reserve` or `adjust` that needs one more throws `store.misconfigured` naming this
   * option; the states already kept go on. A spend state leaves when its period ends, or when its
   * reservations ended having spent nothing. @default 1_000_000
   */
  maxMoneyStates?: number
}

/**
 * Create an in-process {@link KeyguardStore}: exact, atomic (every call runs synchronously), bounded
 * (LRU over the states that may go, a fixed room for money), with lazy expiry and no timers. It
 * implements `docs/store-semantics.md`; use it for one process, and `@keyguard/redis` when several
 * processes share limits.
 *
 * @param options - the clock and the size bounds.
 * @example
 * ```ts
 * const store = memoryStore()
 * const result = store.reserve({
 *   id: 'call-1',
 *   leaseMs: 60_000,
 *   charges: [{ scope: 'user:u1', policy: 'rpm', rule: { kind: 'requests', limit: 60, windowMs: 60_000 }, amount: 1 }],
 * })
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): KeyguardStore {
  checkOptions(
    'memoryStore',
    options,
    ['now', 'maxKeys', 'maxMoneyStates'],
    [
      ...countProblems('maxKeys', options.maxKeys),
      ...countProblems('maxMoneyStates', options.maxMoneyStates),
    ],
  )
  const { now = Date.now, maxKeys = 100_000, maxMoneyStates = 1_000_000 } = options
  const table = stateTable({ maxKeys, maxMoneyStates })
  const records = new Map<string, Reservation>()
  const scratchStates: State[] = []

  /** The state for a charge, created when missing, with time applied. */
  const load = (scope: ScopeKey, policy: string, rule: LimitRule, at: number): State => {
    const found = table.get(scope, policy, periodOf(rule))
    let state: State
    if (found === undefined || found.kind !== rule.kind)
      state = table.add(fresh(rule, at, scope, policy), found, at)
    else {
      state = found
      table.touch(state)
    }
    applyTime(state, rule, at)
    return state
  }

  /** A state known to be the map's for its key (not `gone`): mark it used and apply time, as `load` does. */
  const use = (state: State, rule: LimitRule, at: number): State => {
    table.touch(state)
    applyTime(state, rule, at)
    return state
  }

  /** The state charge `i` of a record holds in, as `load` finds it, without the lookup while it is current. */
  const stateOf = (record: Reservation, i: number, at: number): State => {
    const state = stateAt(record, i)
    const rule = ruleAt(record, i)
    return state === null || state.gone
      ? load(scopeAt(record, i), policyAt(record, i), rule, at)
      : use(state, rule, at)
  }

  const reclaimRecord = (record: Reservation, at: number, events: Events): void => {
    if (record.status !== 'live') return
    record.status = 'expired'
    record.finishedAt = at
    const count = chargeCount(record)
    for (let i = 0; i < count; i++) {
      const state = stateOf(record, i, at)
      const rule = ruleAt(record, i)
      const ended = endHold(state, record.id, rule, 'reclaim', 0, holdAt(record, i))
      // a finished record keeps no hold alive (it is remembered for minutes)
      letGo(record, i)
      if (!ended) continue
      const reclaimedAs = rule.kind === 'spend' || rule.kind === 'credits' ? 'spent' : 'released'
      const scope = scopeAt(record, i)
      const policy = policyAt(record, i)
      events?.push({ type: 'lease-expired', scope, policy, reservationId: record.id, reclaimedAs })
      afterMoney(state, rule, scope, policy, events)
      table.settled(state, at)
    }
  }

  const reclaimIn = (state: State, at: number, events: Events): void => {
    if (state.minLease > at) return
    for (const id of expiredHolds(state, at)) {
      const record = records.get(id)
      if (record && record.status === 'live') reclaimRecord(record, at, events)
      else {
        removeHold(state, id)
        table.settled(state, at)
      }
    }
  }

  // Records in creation order, as an array queue: deleting from the front of a Map leaves
  // tombstones that every later iteration would walk over.
  let order: Reservation[] = []
  const forgotten: Reservation = { id: '', status: 'expired', leaseEnd: 0, finishedAt: 0, slots: [] }
  let head = 0
  const purge = (at: number, events: Events): void => {
    table.expire(at)
    for (; head < order.length; head++) {
      const record = order[head] as Reservation
      if (record.status === 'live') {
        if (record.leaseEnd + RETAIN_MS > at) break
        reclaimRecord(record, at, events)
      }
      // beyond maxKeys records, finished ones are forgotten oldest first to bound memory
      const over = records.size > maxKeys && record.status !== 'live'
      if (!over && Math.max(record.leaseEnd, record.finishedAt) + RETAIN_MS > at) break
      records.delete(record.id)
      // let it go now rather than at the next compaction of the queue
      order[head] = forgotten
    }
    if (head > 1024 && head * 2 > order.length) {
      order = order.slice(head)
      head = 0
    }
  }

  /** The state as `peek` shows it: time applied and expired holds as if reclaimed, nothing written. */
  const view = (scope: ScopeKey, policy: string, rule: LimitRule, at: number): ChargeState => {
    const existing = table.get(scope, policy, periodOf(rule))
    let state = existing && existing.kind === rule.kind ? existing : fresh(rule, at, scope, policy)
    // applying time in place changes nothing observable; reclaiming would, so that runs on a copy
    applyTime(state, rule, at)
    const expired = state.minLease > at ? none : expiredHolds(state, at)
    if (expired.length > 0) {
      state = clone(state)
      for (const id of expired) endHold(state, id, rule, 'reclaim', 0, null)
    }
    return describe(scope, policy, rule, state, at)
  }

  const recordStates = (record: Reservation, at: number, want: boolean | undefined): ChargeState[] => {
    if (want === false) return noStates
    const count = chargeCount(record)
    const states: ChargeState[] = new Array(count)
    for (let i = 0; i < count; i++)
      states[i] = view(scopeAt(record, i), policyAt(record, i), ruleAt(record, i), at)
    return states
  }

  const owners = objectOwners(now, maxKeys)

  // the events of the operation in progress, in one array reused across calls (every call runs to its
  // end synchronously, and each starts by emptying it in case the last one threw): an answer gets an
  // array of its own only when there are events
  const gathered: StoreEvent[] = []
  const gatheredEvents = (): StoreEvent[] => (gathered.length === 0 ? noEvents : gathered.splice(0))

  return {
    claim: owners.claim,
    ownerOf: owners.ownerOf,

    reserve(input: ReserveInput): ReserveResult {
      table.begin()
      validateReserve(input)
      const at = now()
      const events = gathered
      events.length = 0
      purge(at, events)
      const charges = input.charges
      const count = charges.length
      const want = input.wantStates !== false
      if (records.has(input.id)) {
        const states: ChargeState[] = want ? new Array(count) : noStates
        for (let i = 0; want && i < count; i++) {
          const charge = charges[i] as Charge
          states[i] = view(charge.scope, charge.policy, charge.rule, at)
        }
        return { ok: true, replayed: true, states, events: gatheredEvents() }
      }
      // a scratch array reused across calls (every call runs to its end synchronously)
      const loaded = scratchStates
      for (let i = 0; i < count; i++) {
        const charge = charges[i] as Charge
        const state = load(charge.scope, charge.policy, charge.rule, at)
        reclaimIn(state, at, events)
        loaded[i] = state
      }
      for (let i = 0; i < count; i++) {
        const charge = charges[i] as Charge
        // what earlier charges of this reserve on the same state already hold (a repeated policy)
        let taken = 0
        for (let j = 0; j < i; j++)
          if (samePlace(charges[j] as Charge, charge)) taken += (charges[j] as Charge).amount
        const state = loaded[i] as State
        const left = remainingOf(state, charge.rule, taken)
        if (left !== null && charge.amount > left) {
          return { ok: false, denial: denialOf(charge, state, taken, left, at), events: gatheredEvents() }
        }
      }
      // money put in a state is never forgotten: keep its state or refuse the reserve (nothing written)
      table.keepMoney(loaded, count, at, charges)
      const leaseEnd = at + input.leaseMs
      const slots: unknown[] = new Array(count * SLOT)
      const record: Reservation = { id: input.id, status: 'live', leaseEnd, finishedAt: at, slots }
      let credits = false
      for (let i = 0; i < count; i++) {
        const charge = charges[i] as Charge
        const state = loaded[i] as State
        // a repeated (scope, policy) adds to the hold of its first charge
        let prev: Hold | RequestsHold | null = null
        for (let j = 0; j < i; j++) {
          if (samePlace(charges[j] as Charge, charge)) {
            prev = holdAt(record, j)
            break
          }
        }
        const hold = addHold(state, record, charge.amount, at, prev)
        if (state.kind === 'credits') credits = true
        const base = i * SLOT
        slots[base] = charge.scope
        slots[base + 1] = charge.policy
        slots[base + 2] = charge.rule
        slots[base + 3] = hold
        slots[base + 4] = state
      }
      records.set(input.id, record)
      order.push(record)
      if (credits) {
        for (let i = 0; i < count; i++) {
          const state = loaded[i] as State
          if (state.kind !== 'credits' || loaded.indexOf(state) < i) continue
          const charge = charges[i] as Charge
          creditEvents(state, charge.rule as CreditsRule, charge.scope, charge.policy, events)
        }
      }
      if (!want) return { ok: true, replayed: false, states: noStates, events: gatheredEvents() }
      const result: ChargeState[] = new Array(count)
      for (let i = 0; i < count; i++) {
        const charge = charges[i] as Charge
        result[i] = describe(charge.scope, charge.policy, charge.rule, loaded[i] as State, at)
      }
      return { ok: true, replayed: false, states: result, events: gatheredEvents() }
    },

    settle(input: SettleInput): SettleResult {
      table.begin()
      const actual = input.actual
      const costNanos = actual.costNanos
      const tokens = actual.tokens
      if (!isAmount(costNanos) || !isAmount(tokens))
        throw new RangeError('settle: actual costNanos and tokens must be safe integers ≥ 0')
      const at = now()
      const events = gathered
      events.length = 0
      purge(at, events)
      const want = input.wantStates
      const record = records.get(input.id)
      if (!record)
        return { status: 'unknown', states: want === false ? noStates : [], events: gatheredEvents() }
      if (record.status !== 'live') {
        const status = record.status === 'settled' ? 'already-settled' : record.status
        return { status, states: recordStates(record, at, want), events: gatheredEvents() }
      }
      if (record.leaseEnd <= at) {
        reclaimRecord(record, at, events)
        return { status: 'expired', states: recordStates(record, at, want), events: gatheredEvents() }
      }
      const count = chargeCount(record)
      const loaded = scratchStates
      for (let i = 0; i < count; i++) {
        const state = stateOf(record, i, at)
        reclaimIn(state, at, events)
        loaded[i] = state
      }
      record.status = 'settled'
      record.finishedAt = at
      for (let i = 0; i < count; i++) {
        const state = loaded[i] as State
        const rule = ruleAt(record, i)
        const spent = rule.kind === 'tokens' ? tokens : costNanos
        const hold = holdAt(record, i)
        letGo(record, i)
        if (endHold(state, record.id, rule, 'settle', spent, hold))
          afterMoney(state, rule, scopeAt(record, i), policyAt(record, i), events)
        table.settled(state, at)
      }
      if (want === false) return { status: 'settled', states: noStates, events: gatheredEvents() }
      // every expired hold of these states was reclaimed above, so a state still in the map
      // describes as `peek` would show it
      const result: ChargeState[] = new Array(count)
      for (let i = 0; i < count; i++) {
        const state = loaded[i] as State
        const scope = scopeAt(record, i)
        const policy = policyAt(record, i)
        const rule = ruleAt(record, i)
        result[i] =
          state.gone === true ? view(scope, policy, rule, at) : describe(scope, policy, rule, state, at)
      }
      return { status: 'settled', states: result, events: gatheredEvents() }
    },

    release(id: string): ReleaseResult {
      table.begin()
      const at = now()
      purge(at, null)
      const record = records.get(id)
      if (!record) return released.unknown
      if (record.status === 'released') return released['already-released']
      if (record.status !== 'live') return released[record.status]
      if (record.leaseEnd <= at) {
        reclaimRecord(record, at, null)
        return released.expired
      }
      record.status = 'released'
      record.finishedAt = at
      const count = chargeCount(record)
      for (let i = 0; i < count; i++) {
        const state = stateOf(record, i, at)
        reclaimIn(state, at, null)
        endHold(state, id, ruleAt(record, i), 'release', 0, holdAt(record, i))
        letGo(record, i)
        table.settled(state, at)
      }
      return released.released
    },

    peek(input: PeekInput): ChargeState[] {
      table.begin()
      const at = now()
      return input.policies.map(({ policy, rule }) => view(input.scope, policy, rule, at))
    },

    adjust(input: AdjustInput): ChargeState {
      table.begin()
      const { scope, policy, rule, delta, idempotencyKey } = input
      if (!Number.isSafeInteger(delta)) throw new RangeError('adjust: delta must be a safe integer')
      if (rule.kind === 'requests' || rule.kind === 'concurrency') {
        throw new RangeError(
          `adjust: a ${rule.kind} limit has nothing to adjust; adjust tokens, spend or credits`,
        )
      }
      const at = now()
      purge(at, null)
      const state = load(scope, policy, rule, at)
      reclaimIn(state, at, null)
      if (!state.adjustKeys) state.adjustKeys = new Map()
      const keys = state.adjustKeys
      for (const [key, until] of keys) if (until <= at) keys.delete(key)
      if (idempotencyKey !== undefined && keys.has(idempotencyKey))
        return describe(scope, policy, rule, state, at)
      table.keepMoney([state], 1, at, [input])
      if (state.kind === 'spend') {
        if (delta > 0) state.bonus += delta
        else state.spent = Math.max(0, state.spent + delta)
      } else if (state.kind === 'credits') {
        if (delta > 0) grant(state, delta, input.expiresAt ?? null)
        else if (delta < 0) consume(state, -delta)
        if (idempotencyKey !== undefined && state.pending?.key === idempotencyKey) state.pending = null
        const low = (rule as CreditsRule).lowBalanceNanos
        if (low !== undefined && netOf(state) >= low) state.lowNotified = false
      } else if (state.kind === 'tokens' && rule.kind === 'tokens') {
        state.level = Math.min(rule.capacity, state.level + delta)
      }
      if (idempotencyKey !== undefined) keys.set(idempotencyKey, at + ADJUST_KEY_MS)
      table.settled(state, at)
      return describe(scope, policy, rule, state, at)
    },
  }
}

/** No states: the answer's `states` when the caller asked for none (`wantStates: false`), shared and never written. */
const noStates: ChargeState[] = /* @__PURE__ */ Object.freeze([]) as unknown as ChargeState[]
/** No events: the answer's `events` when nothing happened worth hearing (most calls), shared and never written. */
const noEvents: StoreEvent[] = /* @__PURE__ */ Object.freeze([]) as unknown as StoreEvent[]
/** The answers of `release`, one per status, shared and never written: a release has nothing else to say. */
const released: { readonly [S in ReleaseResult['status']]: ReleaseResult } = /* @__PURE__ */ Object.freeze({
  released: Object.freeze({ status: 'released' }),
  'already-released': Object.freeze({ status: 'already-released' }),
  settled: Object.freeze({ status: 'settled' }),
  expired: Object.freeze({ status: 'expired' }),
  unknown: Object.freeze({ status: 'unknown' }),
})

/** Whether two charges of one reserve are at the same place in the table (a repeated policy). */
function samePlace(a: Charge, b: Charge): boolean {
  return a.scope === b.scope && a.policy === b.policy && periodOf(a.rule) === periodOf(b.rule)
}

/** A problem when a count option is given but is not a safe integer ≥ 1. */
function countProblems(name: string, value: unknown): KeyguardProblem[] {
  if (value === undefined || (Number.isSafeInteger(value) && (value as number) >= 1)) return []
  return [
    {
      code: 'not_a_count',
      path: name,
      message: `memoryStore: ${name} must be a whole number ≥ 1, not ${typeof value === 'number' ? value : typeof value}`,
      fix: `pass ${name} as a whole number ≥ 1, or leave it out for the default`,
    },
  ]
}
