import { checkOptions } from '../config/check-options'
import { consume, creditEvents, grant, netOf } from './memory/credits-state'
import { denialOf } from './memory/denial-of'
import { describe, remainingOf } from './memory/describe'
import { evictIdle } from './memory/forgettable'
import type { Hold } from './memory/hold-set'
import { objectOwners } from './memory/object-owners'
import type { Entry } from './memory/requests-state'
import {
  ADJUST_KEY_MS,
  afterMoney,
  type Events,
  RETAIN_MS,
  type RecordCharge,
  type Reservation,
} from './memory/reservation'
import {
  addHold,
  applyTime,
  clone,
  endHold,
  expiredHolds,
  fresh,
  none,
  removeHold,
  type State,
  stateKey,
} from './memory/state'
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
   * Most `(scope, policy)` states kept; beyond it the least recently used rate states without live
   * holds are dropped. Money is never dropped to save memory: spend states stay until their period ends
   * and credit balances stay, even beyond this bound. Also the most
   * reservation records kept: beyond it finished ones are forgotten oldest first, before their
   * 10 minutes. And the most object owners kept (see `claim`), oldest forgotten first. @default 100_000
   */
  maxKeys?: number
}

/**
 * Create an in-process {@link KeyguardStore}: exact, atomic (every call runs synchronously), bounded
 * (LRU over scopes), with lazy expiry and no timers. It implements `docs/store-semantics.md`; use it
 * for one process, and `@keyguard/redis` when several processes share limits.
 *
 * @param options - the clock and the size bound.
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
  checkOptions('memoryStore', options, ['now', 'maxKeys'])
  const { now = Date.now, maxKeys = 100_000 } = options
  const states = new Map<string, State>()
  const records = new Map<string, Reservation>()
  const scratchKeys: string[] = []
  const scratchStates: State[] = []

  let calls = 0
  // The first stamp of the operation in progress: a state it has loaded may be about to take a hold,
  // so eviction never picks one (it would strand the hold on a state no longer in the map).
  let operationStart = 1
  // A stamp per use instead of re-inserting into the Map: eviction sorts by stamp, rarely.
  const evict = (at: number): void =>
    evictIdle(states, maxKeys - Math.floor(maxKeys / 10), at, operationStart)

  /** The state for a charge, created when missing, with time applied. */
  const load = (key: string, rule: LimitRule, at: number): State => {
    let state = states.get(key)
    if (state === undefined || state.kind !== rule.kind) {
      if (state !== undefined) state.gone = true
      state = fresh(rule, at, key)
      state.stamp = ++calls
      states.set(key, state)
      if (states.size > maxKeys) evict(at)
    } else state.stamp = ++calls
    applyTime(state, rule, at)
    return state
  }

  /** A state known to be the map's for its key (not `gone`): mark it used and apply time, as `load` does. */
  const use = (state: State, rule: LimitRule, at: number): State => {
    state.stamp = ++calls
    applyTime(state, rule, at)
    return state
  }

  /** The state a record's charge holds in, as `load` finds it, without the lookup while it is current. */
  const stateOf = (charge: RecordCharge, at: number): State =>
    charge.state.gone === true ? load(charge.key, charge.rule, at) : use(charge.state, charge.rule, at)

  const reclaimRecord = (record: Reservation, at: number, events: Events): void => {
    if (record.status !== 'live') return
    record.status = 'expired'
    record.finishedAt = at
    for (const charge of record.charges) {
      const state = stateOf(charge, at)
      const ended = endHold(state, record.id, charge.rule, 'reclaim', 0, charge.hold)
      // a finished record keeps no hold alive (it is remembered for minutes)
      charge.hold = null
      if (!ended) continue
      const reclaimedAs =
        charge.rule.kind === 'spend' || charge.rule.kind === 'credits' ? 'spent' : 'released'
      events?.push({
        type: 'lease-expired',
        scope: charge.scope,
        policy: charge.policy,
        reservationId: record.id,
        reclaimedAs,
      })
      afterMoney(state, charge, events)
    }
  }

  const reclaimIn = (state: State, at: number, events: Events): void => {
    if (state.minLease > at) return
    for (const id of expiredHolds(state, at)) {
      const record = records.get(id)
      if (record && record.status === 'live') reclaimRecord(record, at, events)
      else removeHold(state, id)
    }
  }

  // Records in creation order, as an array queue: deleting from the front of a Map leaves
  // tombstones that every later iteration would walk over.
  let order: Reservation[] = []
  const forgotten: Reservation = { id: '', status: 'expired', leaseEnd: 0, finishedAt: 0, charges: [] }
  let head = 0
  const purge = (at: number, events: Events): void => {
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
  const view = (
    scope: ScopeKey,
    policy: string,
    rule: LimitRule,
    at: number,
    key = stateKey(scope, policy, rule),
  ): ChargeState => {
    const existing = states.get(key)
    let state = existing && existing.kind === rule.kind ? existing : fresh(rule, at, key)
    // applying time in place changes nothing observable; reclaiming would, so that runs on a copy
    applyTime(state, rule, at)
    const expired = state.minLease > at ? none : expiredHolds(state, at)
    if (expired.length > 0) {
      state = clone(state)
      for (const id of expired) endHold(state, id, rule, 'reclaim', 0, null)
    }
    return describe(scope, policy, rule, state, at)
  }

  const recordStates = (record: Reservation, at: number): ChargeState[] =>
    record.charges.map((charge) => view(charge.scope, charge.policy, charge.rule, at, charge.key))

  const owners = objectOwners(now, maxKeys)

  return {
    claim: owners.claim,
    ownerOf: owners.ownerOf,

    reserve(input: ReserveInput): ReserveResult {
      operationStart = calls + 1
      validateReserve(input)
      const at = now()
      const events: StoreEvent[] = []
      purge(at, events)
      const charges = input.charges
      const count = charges.length
      if (records.has(input.id)) {
        const states: ChargeState[] = new Array(count)
        for (let i = 0; i < count; i++) {
          const charge = charges[i] as Charge
          states[i] = view(charge.scope, charge.policy, charge.rule, at)
        }
        return { ok: true, replayed: true, states, events }
      }
      // scratch arrays reused across calls (every call runs to its end synchronously)
      const keys = scratchKeys
      const loaded = scratchStates
      for (let i = 0; i < count; i++) {
        const charge = charges[i] as Charge
        const key = stateKey(charge.scope, charge.policy, charge.rule)
        const state = load(key, charge.rule, at)
        reclaimIn(state, at, events)
        keys[i] = state.key
        loaded[i] = state
      }
      for (let i = 0; i < count; i++) {
        const charge = charges[i] as Charge
        const key = keys[i] as string
        // what earlier charges of this reserve on the same state already hold (a repeated policy)
        let taken = 0
        for (let j = 0; j < i; j++) if (keys[j] === key) taken += (charges[j] as Charge).amount
        const state = loaded[i] as State
        const left = remainingOf(state, charge.rule, taken)
        if (left !== null && charge.amount > left) {
          return { ok: false, denial: denialOf(charge, state, taken, left, at), events }
        }
      }
      const leaseEnd = at + input.leaseMs
      const recordCharges: RecordCharge[] = new Array(count)
      const record: Reservation = {
        id: input.id,
        status: 'live',
        leaseEnd,
        finishedAt: at,
        charges: recordCharges,
      }
      let credits = false
      for (let i = 0; i < count; i++) {
        const charge = charges[i] as Charge
        const state = loaded[i] as State
        const key = keys[i] as string
        // a repeated (scope, policy) adds to the hold of its first charge
        let prev: Hold | Entry | null = null
        for (let j = 0; j < i; j++) {
          if (keys[j] === key) {
            prev = (recordCharges[j] as RecordCharge).hold
            break
          }
        }
        const hold = addHold(state, input.id, charge.amount, leaseEnd, at, prev)
        if (state.kind === 'credits') credits = true
        recordCharges[i] = {
          scope: charge.scope,
          policy: charge.policy,
          rule: charge.rule,
          amount: charge.amount,
          key,
          hold,
          state,
        }
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
      const result: ChargeState[] = new Array(count)
      for (let i = 0; i < count; i++) {
        const charge = charges[i] as Charge
        result[i] = describe(charge.scope, charge.policy, charge.rule, loaded[i] as State, at)
      }
      return { ok: true, replayed: false, states: result, events }
    },

    settle(input: SettleInput): SettleResult {
      operationStart = calls + 1
      const actual = input.actual
      const costNanos = actual.costNanos
      const tokens = actual.tokens
      if (!isAmount(costNanos) || !isAmount(tokens))
        throw new RangeError('settle: actual costNanos and tokens must be safe integers ≥ 0')
      const at = now()
      const events: StoreEvent[] = []
      purge(at, events)
      const record = records.get(input.id)
      if (!record) return { status: 'unknown', states: [], events }
      if (record.status !== 'live') {
        const status = record.status === 'settled' ? 'already-settled' : record.status
        return { status, states: recordStates(record, at), events }
      }
      if (record.leaseEnd <= at) {
        reclaimRecord(record, at, events)
        return { status: 'expired', states: recordStates(record, at), events }
      }
      const charges = record.charges
      const count = charges.length
      const loaded = scratchStates
      for (let i = 0; i < count; i++) {
        const charge = charges[i] as RecordCharge
        const state = stateOf(charge, at)
        reclaimIn(state, at, events)
        loaded[i] = state
      }
      record.status = 'settled'
      record.finishedAt = at
      for (let i = 0; i < count; i++) {
        const charge = charges[i] as RecordCharge
        const state = loaded[i] as State
        const spent = charge.rule.kind === 'tokens' ? tokens : costNanos
        const hold = charge.hold
        charge.hold = null
        if (endHold(state, record.id, charge.rule, 'settle', spent, hold)) afterMoney(state, charge, events)
      }
      // every expired hold of these states was reclaimed above, so a state still in the map
      // describes as `peek` would show it
      const result: ChargeState[] = new Array(count)
      for (let i = 0; i < count; i++) {
        const charge = charges[i] as RecordCharge
        const state = loaded[i] as State
        result[i] =
          state.gone === true
            ? view(charge.scope, charge.policy, charge.rule, at, charge.key)
            : describe(charge.scope, charge.policy, charge.rule, state, at)
      }
      return { status: 'settled', states: result, events }
    },

    release(id: string): ReleaseResult {
      operationStart = calls + 1
      const at = now()
      purge(at, null)
      const record = records.get(id)
      if (!record) return { status: 'unknown' }
      if (record.status === 'released') return { status: 'already-released' }
      if (record.status !== 'live') return { status: record.status }
      if (record.leaseEnd <= at) {
        reclaimRecord(record, at, null)
        return { status: 'expired' }
      }
      record.status = 'released'
      record.finishedAt = at
      for (const charge of record.charges) {
        const state = stateOf(charge, at)
        reclaimIn(state, at, null)
        endHold(state, id, charge.rule, 'release', 0, charge.hold)
        charge.hold = null
      }
      return { status: 'released' }
    },

    peek(input: PeekInput): ChargeState[] {
      operationStart = calls + 1
      const at = now()
      return input.policies.map(({ policy, rule }) => view(input.scope, policy, rule, at))
    },

    adjust(input: AdjustInput): ChargeState {
      operationStart = calls + 1
      const { scope, policy, rule, delta, idempotencyKey } = input
      if (!Number.isSafeInteger(delta)) throw new RangeError('adjust: delta must be a safe integer')
      if (rule.kind === 'requests' || rule.kind === 'concurrency') {
        throw new RangeError(
          `adjust: a ${rule.kind} limit has nothing to adjust; adjust tokens, spend or credits`,
        )
      }
      const at = now()
      purge(at, null)
      const state = load(stateKey(scope, policy, rule), rule, at)
      reclaimIn(state, at, null)
      if (!state.adjustKeys) state.adjustKeys = new Map()
      const keys = state.adjustKeys
      for (const [key, until] of keys) if (until <= at) keys.delete(key)
      if (idempotencyKey !== undefined && keys.has(idempotencyKey))
        return describe(scope, policy, rule, state, at)
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
      return describe(scope, policy, rule, state, at)
    },
  }
}
