// The per-kind rules of docs/store-semantics.md (§3, §5, §6) on plain JSON documents: what one row of
// `keyguard_states` holds. Pure functions, no I/O: `postgres-store.ts` loads the rows (locked), runs
// these, and writes the rows back in the same transaction.
import type {
  Charge,
  ChargeState,
  CreditsRule,
  Denial,
  LimitRule,
  ScopeKey,
  StoreEvent,
} from '@keyguard/core'

/** One reservation's hold in a state (requests: one log entry per charge). */
export interface Hold {
  id: string
  amount: number
  leaseEnd: number
}

interface Entry extends Hold {
  at: number
}

/** A settled request: `[at, amount]`, without its id (nothing needs it once settled: a third the size). */
type Done = [at: number, amount: number]

interface Keys {
  /** Applied `adjust` idempotency keys and until when they are remembered (epoch ms). */
  keys?: Record<string, number>
}

/** One `(scope, policy[, period])` state as stored in its row's `doc` column. */
export type StateDoc = Keys &
  (
    | { kind: 'requests'; log: Entry[]; done: Done[] }
    | { kind: 'tokens'; level: number; at: number; holds: Hold[] }
    | { kind: 'spend'; spent: number; bonus: number; fired: number[]; holds: Hold[] }
    | { kind: 'concurrency'; holds: Hold[] }
    | {
        kind: 'credits'
        grants: { amount: number; expiresAt: number | null }[]
        debt: number
        consumed: number
        holds: Hold[]
        lowNotified: boolean
        pending: { key: string; amountNanos: number } | null
        recharges: { periodId: string; count: number } | null
      }
  )

type Of<K extends StateDoc['kind']> = Extract<StateDoc, { kind: K }>

/** The row key of a charge's state: a spend state per period, the others per `(scope, policy)`. */
export function stateKey(scope: ScopeKey, policy: string, rule: LimitRule): string {
  return JSON.stringify(rule.kind === 'spend' ? [scope, policy, rule.period.id] : [scope, policy])
}

/** A new state for `rule`: nothing used, nothing held. */
export function freshDoc(rule: LimitRule, at: number): StateDoc {
  switch (rule.kind) {
    case 'requests':
      return { kind: 'requests', log: [], done: [] }
    case 'tokens':
      return { kind: 'tokens', level: rule.capacity, at, holds: [] }
    case 'spend':
      return { kind: 'spend', spent: 0, bonus: 0, fired: [], holds: [] }
    case 'concurrency':
      return { kind: 'concurrency', holds: [] }
    case 'credits':
      return {
        kind: 'credits',
        grants: [],
        debt: 0,
        consumed: 0,
        holds: [],
        lowNotified: false,
        pending: null,
        recharges: null,
      }
  }
}

/** The stored doc for `rule`, or a fresh one when missing or of another kind; time applied in place. */
export function docFor(stored: StateDoc | null | undefined, rule: LimitRule, at: number): StateDoc {
  const doc = stored && stored.kind === rule.kind ? stored : freshDoc(rule, at)
  if (doc.kind === 'requests' && rule.kind === 'requests') {
    doc.log = doc.log.filter((entry) => entry.at > at - rule.windowMs)
    doc.done = (doc.done ?? []).filter(([when]) => when > at - rule.windowMs)
  } else if (doc.kind === 'tokens' && rule.kind === 'tokens') {
    const elapsed = Math.max(0, at - doc.at)
    doc.level = Math.min(rule.capacity, doc.level + (elapsed * rule.refillPerSecond) / 1000)
    doc.at = Math.max(doc.at, at)
  } else if (doc.kind === 'credits') {
    doc.grants = doc.grants.filter((g) => g.expiresAt === null || g.expiresAt > at)
  }
  return doc
}

const holdsOf = (doc: StateDoc): Hold[] => (doc.kind === 'requests' ? doc.log : doc.holds)

/** Ids of live holds whose lease has ended. */
export function expiredIds(doc: StateDoc, at: number): string[] {
  return [
    ...new Set(
      holdsOf(doc)
        .filter((hold) => hold.leaseEnd <= at)
        .map((hold) => hold.id),
    ),
  ]
}

const balanceOf = (doc: Of<'credits'>): number => doc.grants.reduce((sum, g) => sum + g.amount, 0)
const netOf = (doc: Of<'credits'>): number => balanceOf(doc) - doc.debt
const sum = (holds: readonly Hold[]): number => holds.reduce((total, hold) => total + hold.amount, 0)

/** Take `amount` from unexpired grants, oldest first; what is left becomes debt. */
export function consume(doc: Of<'credits'>, amount: number): void {
  let left = amount
  for (const g of doc.grants) {
    const take = Math.min(g.amount, left)
    g.amount -= take
    left -= take
  }
  doc.grants = doc.grants.filter((g) => g.amount > 0)
  doc.debt += left
  doc.consumed += amount
}

/** Pay debt first, then append what is left as a grant. */
export function grant(doc: Of<'credits'>, amount: number, expiresAt: number | null): void {
  const paid = Math.min(doc.debt, amount)
  doc.debt -= paid
  if (amount - paid > 0) doc.grants.push({ amount: amount - paid, expiresAt })
}

/** Hold `amount` for reservation `id` (a repeated `(scope, policy)` joins the earlier hold). */
export function addHold(doc: StateDoc, id: string, amount: number, leaseEnd: number, at: number): void {
  if (doc.kind === 'requests') {
    doc.log.push({ id, at, amount, leaseEnd })
    return
  }
  if (doc.kind === 'tokens') doc.level -= amount
  const hold = doc.holds.find((h) => h.id === id)
  if (hold) hold.amount += amount
  else doc.holds.push({ id, amount, leaseEnd })
}

/** End reservation `id`'s hold: `reclaim` as spent (spend, credits) or released (others). Answers whether there was one. */
export function endHold(
  doc: StateDoc,
  id: string,
  rule: LimitRule,
  how: 'reclaim' | 'release' | 'settle',
  actual: number,
): boolean {
  if (doc.kind === 'requests') {
    const mine = doc.log.filter((e) => e.id === id)
    if (mine.length === 0) return false
    doc.log = doc.log.filter((e) => e.id !== id)
    if (how === 'settle') for (const entry of mine) doc.done.push([entry.at, entry.amount])
    return true
  }
  const hold = doc.holds.find((h) => h.id === id)
  if (!hold) return false
  doc.holds = doc.holds.filter((h) => h !== hold)
  if (doc.kind === 'tokens') {
    const capacity = rule.kind === 'tokens' ? rule.capacity : Number.POSITIVE_INFINITY
    doc.level = Math.min(capacity, doc.level + (how === 'settle' ? hold.amount - actual : hold.amount))
  } else if (doc.kind === 'spend') {
    if (how === 'settle') doc.spent += actual
    else if (how === 'reclaim') doc.spent += hold.amount
  } else if (doc.kind === 'credits') {
    if (how === 'settle') consume(doc, actual)
    else if (how === 'reclaim') consume(doc, hold.amount)
  }
  return true
}

/** Soft-limit (spend) and credits events after money moved in `doc`. */
export function afterMoney(
  doc: StateDoc,
  scope: ScopeKey,
  policy: string,
  rule: LimitRule,
  events: StoreEvent[],
): void {
  if (doc.kind === 'spend' && rule.kind === 'spend') {
    for (const threshold of [...rule.softNanos].sort((a, b) => a - b)) {
      if (doc.spent < threshold || doc.fired.includes(threshold)) continue
      doc.fired.push(threshold)
      events.push({
        type: 'soft-limit',
        scope,
        policy,
        thresholdNanos: threshold,
        usedNanos: doc.spent,
        limitNanos: rule.limitNanos,
        periodId: rule.period.id,
      })
    }
  }
  if (doc.kind === 'credits' && rule.kind === 'credits') creditEvents(doc, rule, scope, policy, events)
}

/** Credits events on a state after a change (spec §3.5). */
export function creditEvents(
  doc: Of<'credits'>,
  rule: CreditsRule,
  scope: ScopeKey,
  policy: string,
  events: StoreEvent[],
): void {
  const net = netOf(doc)
  if (rule.lowBalanceNanos !== undefined) {
    if (net >= rule.lowBalanceNanos) doc.lowNotified = false
    else if (!doc.lowNotified) {
      doc.lowNotified = true
      events.push({ type: 'credits-low', scope, policy, balanceNanos: net })
    }
  }
  const auto = rule.autoRecharge
  if (!auto) return
  if (!doc.recharges || doc.recharges.periodId !== auto.period.id)
    doc.recharges = { periodId: auto.period.id, count: 0 }
  if (net < auto.thresholdNanos && doc.pending === null && doc.recharges.count < auto.maxPerPeriod) {
    doc.recharges.count += 1
    const key = `recharge:${scope}:${policy}:${auto.period.id}:${doc.recharges.count}`
    doc.pending = { key, amountNanos: auto.amountNanos }
    events.push({ type: 'recharge-due', scope, policy, amountNanos: auto.amountNanos, idempotencyKey: key })
  }
}

/** Apply an `adjust` delta (spec §8.3) to a spend, credits or tokens state. */
export function adjustDoc(
  doc: StateDoc,
  rule: LimitRule,
  delta: number,
  expiresAt: number | null,
  key?: string,
): void {
  if (doc.kind === 'spend') {
    if (delta > 0) doc.bonus += delta
    else doc.spent = Math.max(0, doc.spent + delta)
  } else if (doc.kind === 'credits') {
    if (delta > 0) grant(doc, delta, expiresAt)
    else if (delta < 0) consume(doc, -delta)
    if (key !== undefined && doc.pending?.key === key) doc.pending = null
    const low = rule.kind === 'credits' ? rule.lowBalanceNanos : undefined
    if (low !== undefined && netOf(doc) >= low) doc.lowNotified = false
  } else if (doc.kind === 'tokens' && rule.kind === 'tokens') {
    doc.level = Math.min(rule.capacity, doc.level + delta)
  }
}

const heldOf = (doc: StateDoc): number => sum(holdsOf(doc))

const limitOf = (doc: StateDoc, rule: LimitRule): number | null => {
  switch (rule.kind) {
    case 'requests':
    case 'concurrency':
      return rule.limit
    case 'tokens':
      return rule.capacity
    case 'spend':
      return rule.limitNanos === null ? null : rule.limitNanos + (doc.kind === 'spend' ? doc.bonus : 0)
    case 'credits':
      return doc.kind === 'credits' ? balanceOf(doc) : 0
  }
}

/** What a new reservation may still take, after `taken` already held by it (`null`: unlimited). */
export function remainingOf(doc: StateDoc, rule: LimitRule, taken: number): number | null {
  const held = heldOf(doc)
  switch (doc.kind) {
    case 'requests':
      return Math.max(0, (rule.kind === 'requests' ? rule.limit : 0) - requestsTotal(doc) - taken)
    case 'tokens':
      return Math.max(0, Math.floor(doc.level - taken))
    case 'spend': {
      const limit = limitOf(doc, rule)
      return limit === null ? null : Math.max(0, limit - doc.spent - held - taken)
    }
    case 'concurrency':
      return Math.max(0, (rule.kind === 'concurrency' ? rule.limit : 0) - held - taken)
    case 'credits':
      return Math.max(0, netOf(doc) - held - taken)
  }
}

/** The `ChargeState` a caller sees (spec §3, §5). */
export function describeDoc(
  scope: ScopeKey,
  policy: string,
  rule: LimitRule,
  doc: StateDoc,
  at: number,
): ChargeState {
  const held = heldOf(doc)
  let used = 0
  let resetAt: number | null = null
  if (doc.kind === 'requests') {
    used = doc.done.reduce((total, [, amount]) => total + amount, 0)
    const entries = requestEntries(doc)
    if (entries.length > 0 && rule.kind === 'requests') resetAt = (entries[0] as Done)[0] + rule.windowMs
  } else if (doc.kind === 'tokens' && rule.kind === 'tokens') {
    used = Math.max(0, rule.capacity - Math.floor(doc.level) - held)
    if (doc.level < rule.capacity && rule.refillPerSecond > 0)
      resetAt = at + Math.ceil(((rule.capacity - doc.level) * 1000) / rule.refillPerSecond)
  } else if (doc.kind === 'spend') {
    used = doc.spent
    if (rule.kind === 'spend') resetAt = rule.period.endsAt
  } else if (doc.kind === 'credits') used = doc.consumed
  return {
    scope,
    policy,
    kind: rule.kind,
    limit: limitOf(doc, rule),
    used,
    held,
    remaining: remainingOf(doc, rule, 0),
    resetAt,
  }
}

/** Why `charge` does not fit (spec §6), after `taken` already held by the same reserve. */
export function denialOf(
  charge: Charge,
  doc: StateDoc,
  taken: number,
  remaining: number,
  at: number,
): Denial {
  const { rule, amount } = charge
  const limit = limitOf(doc, rule)
  let retryAfterMs: number | null = null
  if (rule.kind === 'requests' && doc.kind === 'requests' && amount <= rule.limit) {
    let need = requestsTotal(doc) + taken + amount - rule.limit
    retryAfterMs = rule.windowMs
    for (const [when, size] of requestEntries(doc)) {
      need -= size
      if (need <= 0) {
        retryAfterMs = Math.max(0, when + rule.windowMs - at)
        break
      }
    }
  } else if (
    rule.kind === 'tokens' &&
    doc.kind === 'tokens' &&
    amount <= rule.capacity &&
    rule.refillPerSecond > 0
  ) {
    retryAfterMs = Math.max(0, Math.ceil(((amount - (doc.level - taken)) * 1000) / rule.refillPerSecond))
  } else if (rule.kind === 'spend') {
    if (limit !== null && amount <= limit) retryAfterMs = Math.max(0, rule.period.endsAt - at)
  } else if (rule.kind === 'concurrency' && doc.kind === 'concurrency' && amount <= rule.limit) {
    let need = heldOf(doc) + taken + amount - rule.limit
    for (const hold of [...doc.holds].sort((a, b) => a.leaseEnd - b.leaseEnd)) {
      need -= hold.amount
      if (need <= 0) {
        retryAfterMs = Math.max(0, hold.leaseEnd - at)
        break
      }
    }
  }
  return {
    scope: charge.scope,
    policy: charge.policy,
    kind: rule.kind,
    limit,
    remaining,
    requested: amount,
    retryAfterMs,
    used: describeDoc(charge.scope, charge.policy, rule, doc, at).used,
  }
}

/** Drop reservation `id`'s hold (a reservation no longer live) without charging or refunding it. */
export function removeHoldOf(doc: StateDoc, id: string): void {
  if (doc.kind === 'requests') doc.log = doc.log.filter((e) => e.id !== id)
  else doc.holds = doc.holds.filter((h) => h.id !== id)
}

type Requests = Of<'requests'>

/** Every request in the window, settled or held, oldest first, as `[at, amount]`. */
function requestEntries(doc: Requests): Done[] {
  return [...doc.done, ...doc.log.map((e): Done => [e.at, e.amount])].sort((a, b) => a[0] - b[0])
}

/** Settled plus held requests in the window. */
function requestsTotal(doc: Requests): number {
  return sum(doc.log) + doc.done.reduce((total, [, amount]) => total + amount, 0)
}
