import type {
  AdjustInput,
  Charge,
  ChargeState,
  CreditsRule,
  Denial,
  KeyguardStore,
  LimitRule,
  PeekInput,
  ReleaseResult,
  ReserveInput,
  ReserveResult,
  ScopeKey,
  SettleInput,
  SettleResult,
  SpendRule,
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
   * 10 minutes. @default 100_000
   */
  maxKeys?: number
}

const RETAIN_MS = 600_000
const ADJUST_KEY_MS = 7 * 24 * 3_600_000

/** Something kept in a {@link HoldSet}: its reservation id and its place in the set (-1: not in it). */
interface Slotted {
  id: string
  slot: number
}
/**
 * The live holds of a state, by reference: adding and removing are O(1) with no hashing (the
 * reservation keeps a reference to its hold); finding one by id scans, and only rare paths do.
 */
class HoldSet<T extends Slotted> {
  items: T[] = []
  get size(): number {
    return this.items.length
  }
  has(item: T | null): item is T {
    return item !== null && item.slot >= 0 && this.items[item.slot] === item
  }
  find(id: string): T | null {
    for (const item of this.items) if (item.id === id) return item
    return null
  }
  add(item: T): void {
    item.slot = this.items.length
    this.items.push(item)
  }
  /** Put `next` in the place of `item`. */
  replace(item: T, next: T): void {
    next.slot = item.slot
    this.items[item.slot] = next
    item.slot = -1
  }
  remove(item: T): void {
    const last = this.items.pop() as T
    if (last !== item) {
      last.slot = item.slot
      this.items[item.slot] = last
    }
    item.slot = -1
  }
}
interface Hold extends Slotted {
  amount: number
  leaseEnd: number
}
interface Entry extends Slotted {
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
interface Grant {
  amount: number
  expiresAt: number | null
}
interface Common {
  /** The state's key in the map: records share this string instead of keeping their own copy. */
  key: string
  adjustKeys?: Map<string, number>
  /** When the state was last used, in calls: the LRU order. */
  stamp?: number
  /** No hold in the state has a lease ending before this (a lower bound: skips the scan for expired holds). */
  minLease: number
  /** Set once the state has left the map (evicted or rewritten as another kind). */
  gone?: boolean
}
interface RequestsState extends Common {
  kind: 'requests'
  /** Entries in time order from `head`; removed ones stay as tombstones until they age out. */
  log: Entry[]
  head: number
  total: number
  settledSum: number
  /** Unsettled entries: each reservation's first, the rest chained through `next`. */
  pending: HoldSet<Entry>
}
interface TokensState extends Common {
  kind: 'tokens'
  level: number
  at: number
  holds: HoldSet<Hold>
  /** Sum of the holds' amounts. */
  held: number
}
interface SpendState extends Common {
  kind: 'spend'
  /** When the state's period ends: after it, the state may be forgotten. */
  endsAt: number
  spent: number
  bonus: number
  fired: number[]
  holds: HoldSet<Hold>
  /** Sum of the holds' amounts. */
  held: number
}
interface ConcurrencyState extends Common {
  kind: 'concurrency'
  holds: HoldSet<Hold>
  /** Sum of the holds' amounts. */
  held: number
}
interface CreditsState extends Common {
  kind: 'credits'
  grants: Grant[]
  debt: number
  consumed: number
  holds: HoldSet<Hold>
  /** Sum of the holds' amounts. */
  held: number
  lowNotified: boolean
  pending: { key: string; amountNanos: number } | null
  recharges: { periodId: string; count: number } | null
}
type State = RequestsState | TokensState | SpendState | ConcurrencyState | CreditsState

interface RecordCharge {
  scope: ScopeKey
  policy: string
  rule: LimitRule
  amount: number
  key: string
  /** The hold this charge made (requests: its reservation's first entry), to end it without a lookup. */
  hold: Hold | Entry | null
  /** The state it was held in: while that state is not `gone`, it is the map's state for `key`. */
  state: State
}
interface Reservation {
  id: string
  status: 'live' | 'settled' | 'released' | 'expired'
  leaseEnd: number
  finishedAt: number
  charges: RecordCharge[]
}

type Events = StoreEvent[] | null

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
export function memoryStore({ now = Date.now, maxKeys = 100_000 }: MemoryStoreOptions = {}): KeyguardStore {
  const states = new Map<string, State>()
  const records = new Map<string, Reservation>()
  const scratchKeys: string[] = []
  const scratchStates: State[] = []

  let calls = 0
  // The first stamp of the operation in progress: a state it has loaded may be about to take a hold,
  // so eviction never picks one (it would strand the hold on a state no longer in the map).
  let operationStart = 1
  // A stamp per use instead of re-inserting into the Map: eviction sorts by stamp, rarely.
  const evict = (at: number): void => {
    const target = maxKeys - Math.floor(maxKeys / 10)
    const idle = [...states]
      .filter(([, state]) => forgettable(state, at) && (state.stamp ?? 0) < operationStart)
      .sort((a, b) => (a[1].stamp ?? 0) - (b[1].stamp ?? 0))
    for (const [key, state] of idle) {
      if (states.size <= target) return
      states.delete(key)
      state.gone = true
    }
  }

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

  return {
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

function stateKey(scope: ScopeKey, policy: string, rule: LimitRule): string {
  return rule.kind === 'spend' ? `${scope}\u0000${policy}\u0000${rule.period.id}` : `${scope}\u0000${policy}`
}

function fresh(rule: LimitRule, at: number, key: string): State {
  const minLease = Number.POSITIVE_INFINITY
  switch (rule.kind) {
    case 'requests':
      return {
        kind: 'requests',
        log: [],
        head: 0,
        total: 0,
        settledSum: 0,
        pending: new HoldSet(),
        minLease,
        key,
      }
    case 'tokens':
      return { kind: 'tokens', level: rule.capacity, at, holds: new HoldSet(), held: 0, minLease, key }
    case 'spend':
      return {
        kind: 'spend',
        endsAt: rule.period.endsAt,
        spent: 0,
        bonus: 0,
        fired: [],
        holds: new HoldSet(),
        held: 0,
        minLease,
        key,
      }
    case 'concurrency':
      return { kind: 'concurrency', holds: new HoldSet(), held: 0, minLease, key }
    case 'credits':
      return {
        kind: 'credits',
        grants: [],
        debt: 0,
        consumed: 0,
        holds: new HoldSet(),
        held: 0,
        lowNotified: false,
        pending: null,
        recharges: null,
        minLease,
        key,
      }
  }
}

function copyHolds(holds: HoldSet<Hold>): HoldSet<Hold> {
  const copy = new HoldSet<Hold>()
  for (const hold of holds.items) copy.add({ ...hold })
  return copy
}

function clone(state: State): State {
  switch (state.kind) {
    case 'requests': {
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
    case 'tokens':
      return { ...state, holds: copyHolds(state.holds) }
    case 'spend':
      return { ...state, fired: [...state.fired], holds: copyHolds(state.holds) }
    case 'concurrency':
      return { ...state, holds: copyHolds(state.holds) }
    case 'credits':
      return { ...state, grants: state.grants.map((g) => ({ ...g })), holds: copyHolds(state.holds) }
  }
}

function applyTime(state: State, rule: LimitRule, at: number): void {
  if (state.kind === 'requests' && rule.kind === 'requests') {
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
  } else if (state.kind === 'tokens' && rule.kind === 'tokens') {
    const elapsed = Math.max(0, at - state.at)
    state.level = Math.min(rule.capacity, state.level + (elapsed * rule.refillPerSecond) / 1000)
    state.at = Math.max(state.at, at)
  } else if (state.kind === 'credits') {
    if (state.grants.some((g) => g.expiresAt !== null && g.expiresAt <= at)) {
      state.grants = state.grants.filter((g) => g.expiresAt === null || g.expiresAt > at)
    }
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

function firstEntry(state: RequestsState): Entry | undefined {
  for (let index = state.head; index < state.log.length; index++) {
    const entry = state.log[index] as Entry
    if (!entry.removed) return entry
  }
  return undefined
}

function hasHolds(state: State): boolean {
  return state.kind === 'requests' ? state.pending.size > 0 : state.holds.size > 0
}

/**
 * Whether dropping a state to bound memory is safe. Rate states without holds may go (the LRU over
 * scopes trades a little rate accuracy for memory). Money never goes: spend only once its period has
 * ended or when nothing was spent, credits only when the state holds no grant, debt or history, since a
 * dropped balance would be a customer's prepaid money lost and a dropped spend would mint budget.
 */
function forgettable(state: State, at: number): boolean {
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

const none: readonly string[] = Object.freeze([])

/** Ids of holds whose lease has ended; also tightens `minLease` to the earliest lease of any hold. */
function expiredHolds(state: State, at: number): readonly string[] {
  let ids: string[] | undefined
  let min = Number.POSITIVE_INFINITY
  const items: readonly (Hold | Entry)[] = state.kind === 'requests' ? state.pending.items : state.holds.items
  for (const hold of items) {
    if (hold.leaseEnd < min) min = hold.leaseEnd
    if (hold.leaseEnd <= at) {
      if (ids) ids.push(hold.id)
      else ids = [hold.id]
    }
  }
  state.minLease = min
  return ids ?? none
}

function removeHold(state: State, id: string): void {
  if (state.kind === 'requests') {
    const first = state.pending.find(id)
    if (!first) return
    state.pending.remove(first)
    for (let entry: Entry | null = first; entry; ) {
      const next: Entry | null = entry.next
      entry.next = null
      dropEntry(state, entry)
      entry = next
    }
  } else {
    const hold = state.holds.find(id)
    if (hold) {
      state.holds.remove(hold)
      state.held -= hold.amount
    }
  }
}

/**
 * Hold `amount` for reservation `id`; `prev` is the hold an earlier charge of the same reservation
 * made in this state, if any, which this one joins. Answers the hold (requests: the first entry).
 */
function addHold(
  state: State,
  id: string,
  amount: number,
  leaseEnd: number,
  at: number,
  prev: Hold | Entry | null,
): Hold | Entry {
  if (leaseEnd < state.minLease) state.minLease = leaseEnd
  if (state.kind === 'requests') {
    const entry = { id, at, amount, settled: false, removed: false, leaseEnd, next: null, slot: -1 } as Entry
    entry.first = entry
    state.log.push(entry)
    state.total += amount
    const first = prev as Entry | null
    if (first !== null && state.pending.has(first)) {
      let last = first
      while (last.next !== null) last = last.next
      last.next = entry
      entry.first = first
      return first
    }
    state.pending.add(entry)
    return entry
  }
  if (state.kind === 'tokens') state.level -= amount
  state.held += amount
  const existing = prev as Hold | null
  if (existing !== null && state.holds.has(existing)) {
    existing.amount += amount
    return existing
  }
  const hold: Hold = { id, amount, leaseEnd, slot: -1 }
  state.holds.add(hold)
  return hold
}

/**
 * End one reservation's hold in a state. `reclaim` ends it as spent (spend, credits) or released
 * (the rest); `settle` charges `actual`. Answers whether there was a hold to end.
 */
function endHold(
  state: State,
  id: string,
  rule: LimitRule,
  how: 'reclaim' | 'release' | 'settle',
  actual: number,
  hint: Hold | Entry | null,
): boolean {
  if (state.kind === 'requests') {
    const first = state.pending.has(hint as Entry | null) ? (hint as Entry) : state.pending.find(id)
    if (!first) return false
    state.pending.remove(first)
    for (let entry: Entry | null = first; entry; ) {
      const next: Entry | null = entry.next
      entry.next = null
      if (how !== 'settle') dropEntry(state, entry)
      else if (!entry.removed) {
        entry.settled = true
        state.settledSum += entry.amount
      }
      entry = next
    }
    return true
  }
  const hold = state.holds.has(hint as Hold | null) ? (hint as Hold) : state.holds.find(id)
  if (!hold) return false
  state.holds.remove(hold)
  state.held -= hold.amount
  switch (state.kind) {
    case 'tokens': {
      const capacity = rule.kind === 'tokens' ? rule.capacity : Number.POSITIVE_INFINITY
      const back = how === 'settle' ? hold.amount - actual : hold.amount
      state.level = Math.min(capacity, state.level + back)
      break
    }
    case 'spend':
      if (how === 'settle') state.spent += actual
      else if (how === 'reclaim') state.spent += hold.amount
      break
    case 'credits':
      if (how === 'settle') consume(state, actual)
      else if (how === 'reclaim') consume(state, hold.amount)
      break
    case 'concurrency':
      break
  }
  return true
}

/** Soft-limit and credits events after money moved. */
function afterMoney(state: State, charge: RecordCharge, events: Events): void {
  const sink = events ?? []
  if (state.kind === 'spend' && charge.rule.kind === 'spend')
    softCheck(state, charge.rule, charge.scope, charge.policy, sink)
  if (state.kind === 'credits' && charge.rule.kind === 'credits')
    creditEvents(state, charge.rule, charge.scope, charge.policy, sink)
}

function softCheck(
  state: SpendState,
  rule: SpendRule,
  scope: ScopeKey,
  policy: string,
  events: StoreEvent[],
): void {
  for (const threshold of [...rule.softNanos].sort((a, b) => a - b)) {
    if (state.spent < threshold || state.fired.includes(threshold)) continue
    state.fired.push(threshold)
    events.push({
      type: 'soft-limit',
      scope,
      policy,
      thresholdNanos: threshold,
      usedNanos: state.spent,
      limitNanos: rule.limitNanos,
      periodId: rule.period.id,
    })
  }
}

function balanceOf(state: CreditsState): number {
  let sum = 0
  for (const g of state.grants) sum += g.amount
  return sum
}

function netOf(state: CreditsState): number {
  return balanceOf(state) - state.debt
}

function heldOf(state: State): number {
  return state.kind === 'requests' ? state.total - state.settledSum : state.held
}

function consume(state: CreditsState, amount: number): void {
  let left = amount
  for (const g of state.grants) {
    if (left === 0) break
    const take = Math.min(g.amount, left)
    g.amount -= take
    left -= take
  }
  state.grants = state.grants.filter((g) => g.amount > 0)
  state.debt += left
  state.consumed += amount
}

function grant(state: CreditsState, amount: number, expiresAt: number | null): void {
  const paid = Math.min(state.debt, amount)
  state.debt -= paid
  if (amount - paid > 0) state.grants.push({ amount: amount - paid, expiresAt })
}

function creditEvents(
  state: CreditsState,
  rule: CreditsRule,
  scope: ScopeKey,
  policy: string,
  events: StoreEvent[],
): void {
  const net = netOf(state)
  if (rule.lowBalanceNanos !== undefined) {
    if (net < rule.lowBalanceNanos) {
      if (!state.lowNotified) {
        state.lowNotified = true
        events.push({ type: 'credits-low', scope, policy, balanceNanos: net })
      }
    } else state.lowNotified = false
  }
  const auto = rule.autoRecharge
  if (!auto) return
  if (!state.recharges || state.recharges.periodId !== auto.period.id) {
    state.recharges = { periodId: auto.period.id, count: 0 }
  }
  if (net < auto.thresholdNanos && state.pending === null && state.recharges.count < auto.maxPerPeriod) {
    state.recharges.count += 1
    const key = `recharge:${scope}:${policy}:${auto.period.id}:${state.recharges.count}`
    state.pending = { key, amountNanos: auto.amountNanos }
    events.push({ type: 'recharge-due', scope, policy, amountNanos: auto.amountNanos, idempotencyKey: key })
  }
}

/** What a new reservation may still take, after `taken` already held by this reservation. */
function remainingOf(state: State, rule: LimitRule, taken: number): number | null {
  switch (state.kind) {
    case 'requests': {
      const limit = rule.kind === 'requests' ? rule.limit : 0
      return Math.max(0, limit - state.total - taken)
    }
    case 'tokens':
      return Math.max(0, Math.floor(state.level - taken))
    case 'spend': {
      const limit = rule.kind === 'spend' ? rule.limitNanos : null
      if (limit === null) return null
      return Math.max(0, limit + state.bonus - state.spent - heldOf(state) - taken)
    }
    case 'concurrency':
      return Math.max(0, (rule.kind === 'concurrency' ? rule.limit : 0) - heldOf(state) - taken)
    case 'credits':
      return Math.max(0, netOf(state) - heldOf(state) - taken)
  }
}

function limitOf(state: State, rule: LimitRule): number | null {
  switch (rule.kind) {
    case 'requests':
    case 'concurrency':
      return rule.limit
    case 'tokens':
      return rule.capacity
    case 'spend':
      return rule.limitNanos === null ? null : rule.limitNanos + (state.kind === 'spend' ? state.bonus : 0)
    case 'credits':
      return state.kind === 'credits' ? balanceOf(state) : 0
  }
}

function describe(scope: ScopeKey, policy: string, rule: LimitRule, state: State, at: number): ChargeState {
  const held = heldOf(state)
  let used = 0
  let resetAt: number | null = null
  switch (state.kind) {
    case 'requests': {
      used = state.settledSum
      const oldest = firstEntry(state)
      if (oldest && rule.kind === 'requests') resetAt = oldest.at + rule.windowMs
      break
    }
    case 'tokens':
      if (rule.kind === 'tokens') {
        used = Math.max(0, rule.capacity - Math.floor(state.level) - held)
        if (state.level < rule.capacity && rule.refillPerSecond > 0) {
          resetAt = at + Math.ceil(((rule.capacity - state.level) * 1000) / rule.refillPerSecond)
        }
      }
      break
    case 'spend':
      used = state.spent
      if (rule.kind === 'spend') resetAt = rule.period.endsAt
      break
    case 'credits':
      used = state.consumed
      break
    case 'concurrency':
      break
  }
  // one literal, not a spread: this runs on every call and spreads are slow in V8
  return {
    scope,
    policy,
    kind: rule.kind,
    limit: limitOf(state, rule),
    used,
    held,
    remaining: remainingOf(state, rule, 0),
    resetAt,
  }
}

function denialOf(charge: Charge, state: State, taken: number, remaining: number, at: number): Denial {
  const { rule, amount } = charge
  const limit = limitOf(state, rule)
  let retryAfterMs: number | null = null
  switch (rule.kind) {
    case 'requests': {
      if (amount > rule.limit || state.kind !== 'requests') break
      let need = state.total + taken + amount - rule.limit
      for (let index = state.head; index < state.log.length; index++) {
        const entry = state.log[index] as Entry
        if (entry.removed) continue
        need -= entry.amount
        if (need <= 0) {
          retryAfterMs = Math.max(0, entry.at + rule.windowMs - at)
          break
        }
      }
      retryAfterMs ??= rule.windowMs
      break
    }
    case 'tokens':
      if (amount > rule.capacity || rule.refillPerSecond === 0 || state.kind !== 'tokens') break
      retryAfterMs = Math.max(0, Math.ceil(((amount - (state.level - taken)) * 1000) / rule.refillPerSecond))
      break
    case 'spend':
      if (limit !== null && amount <= limit) retryAfterMs = Math.max(0, rule.period.endsAt - at)
      break
    case 'concurrency': {
      if (amount > rule.limit || state.kind !== 'concurrency') break
      let need = heldOf(state) + taken + amount - rule.limit
      const holds = [...state.holds.items].sort((a, b) => a.leaseEnd - b.leaseEnd)
      for (const hold of holds) {
        need -= hold.amount
        if (need <= 0) {
          retryAfterMs = Math.max(0, hold.leaseEnd - at)
          break
        }
      }
      break
    }
    case 'credits':
      break
  }
  return {
    scope: charge.scope,
    policy: charge.policy,
    kind: rule.kind,
    limit,
    remaining,
    requested: amount,
    retryAfterMs,
  }
}

function isAmount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

function validateReserve(input: ReserveInput): void {
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
