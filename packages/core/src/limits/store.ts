/**
 * The store contract: what every keyguard store (memory, Redis, your own) implements. Rules are
 * plain data so a store can run them anywhere, including inside one Redis Lua script. Money is
 * integer nano-USD; every amount is a non-negative safe integer.
 *
 * Invariants every store holds (the conformance suite in @keyguard/testing checks them):
 * - `reserve` holds every charge or none: a denial writes nothing.
 * - `reserve`, `settle` and `release` are idempotent by reservation id.
 * - Every hold ends: settled, released, or reclaimed after its lease (spend and credits as spent,
 *   so a crash never mints budget; requests, tokens and concurrency as released).
 * - `settle` charges the period the reservation charged, even if it has rolled over since.
 */

import type { PeriodOptions } from './period-of'

/** Who pays: `global`, or a kind and an id such as `tenant:t1`, `user:u9`, `key:default`, `model:gpt-4o`. */
export type ScopeKey = string

/** The kinds of limit a store enforces. */
export type LimitKind = 'requests' | 'tokens' | 'spend' | 'concurrency' | 'credits'

/** A calendar period, computed by core from dates; the store only keys and expires by it. */
export interface PeriodRef {
  /** Stable id of the period, such as `2026-11` or `2026-11-28`; a new id starts a new count. */
  id: string
  /** When the period ends, in epoch ms: the reset time, and the floor for the state's TTL. */
  endsAt: number
  /**
   * How the period was cut (from the app host's clock). A store that keeps its own clock (Redis)
   * recomputes the period for its own time with `periodSpanOf`, so every instance of a fleet counts
   * in the same period whatever its host's clock says. Optional: stores may ignore it.
   */
  of?: PeriodOptions
}

/** Sliding-window request counter: at most `limit` requests in any `windowMs`. */
export interface RequestsRule {
  kind: 'requests'
  limit: number
  windowMs: number
}

/**
 * Token bucket with continuous refill. A reservation takes its estimate from the bucket; settling
 * returns the difference, and an overage leaves the bucket in debt, delaying later requests.
 */
export interface TokensRule {
  kind: 'tokens'
  capacity: number
  /** Tokens added back per second, continuously. */
  refillPerSecond: number
}

/** Spend in one calendar period. `limitNanos: null` means soft thresholds only (never blocks). */
export interface SpendRule {
  kind: 'spend'
  limitNanos: number | null
  period: PeriodRef
  /** Soft thresholds in nanos, ascending; each fires one `soft-limit` event per period per scope. */
  softNanos: readonly number[]
}

/** At most `limit` live holds at once. */
export interface ConcurrencyRule {
  kind: 'concurrency'
  limit: number
}

/** A prepaid balance made of grants (consumed oldest first; a grant may expire). */
export interface CreditsRule {
  kind: 'credits'
  /** Emit a `credits-low` event when the balance falls below this. */
  lowBalanceNanos?: number
  /** Ask for a recharge when the balance falls below `thresholdNanos`, at most `maxPerPeriod` times a period. */
  autoRecharge?: {
    thresholdNanos: number
    amountNanos: number
    maxPerPeriod: number
    period: PeriodRef
  }
}

/** One policy's rule, as data. */
export type LimitRule = RequestsRule | TokensRule | SpendRule | ConcurrencyRule | CreditsRule

/** One limit a request must fit: a policy, for one scope, and how much of it the request takes. */
export interface Charge {
  scope: ScopeKey
  /** The policy's name, unique among the policies of a scope (`monthly-spend`, `rpm`). */
  policy: string
  rule: LimitRule
  /** Requests and concurrency: 1. Tokens: the estimate. Spend and credits: the maximum cost in nanos. */
  amount: number
}

/** Read-only state of one policy for one scope. */
export interface ChargeState {
  scope: ScopeKey
  policy: string
  kind: LimitKind
  /** The limit (credits: the balance of unexpired grants); `null` when there is none. */
  limit: number | null
  /** Counted and final: requests in the window, tokens taken, nanos spent or consumed. */
  used: number
  /** Held by live reservations. */
  held: number
  /** What a new reservation may still take (`null`: unlimited). Never negative. */
  remaining: number | null
  /** Epoch ms when the count resets or, for tokens, the bucket is full again; `null` if never. */
  resetAt: number | null
}

/** Why a reservation was refused: the first charge that did not fit. */
export interface Denial {
  scope: ScopeKey
  policy: string
  kind: LimitKind
  limit: number | null
  remaining: number
  requested: number
  /** When the same reservation could fit again, if it can; `null` when waiting will not help. */
  retryAfterMs: number | null
  /**
   * What the state counts as used, as in its {@link ChargeState} (for spend: settled nanos), so a reader
   * can tell a limit that running calls hold (`limit - used >= requested`: it fits when they settle)
   * from one that is spent. Optional: a store may leave it out.
   */
  used?: number
}

/** Something the app should hear about; the guard turns these into typed events. */
export type StoreEvent =
  | {
      type: 'soft-limit'
      scope: ScopeKey
      policy: string
      thresholdNanos: number
      usedNanos: number
      limitNanos: number | null
      periodId: string
    }
  | { type: 'credits-low'; scope: ScopeKey; policy: string; balanceNanos: number }
  /** The store has marked a recharge pending (at most one per scope and policy): call `recharge`, then `adjust` with the key. */
  | { type: 'recharge-due'; scope: ScopeKey; policy: string; amountNanos: number; idempotencyKey: string }
  | {
      type: 'lease-expired'
      scope: ScopeKey
      policy: string
      reservationId: string
      reclaimedAs: 'spent' | 'released'
    }

export interface ReserveInput {
  /** Unique per upstream attempt; a repeated reserve with the same id changes nothing. */
  id: string
  charges: readonly Charge[]
  /** How long the holds live before they are reclaimed. */
  leaseMs: number
  /**
   * `false` when the caller will not read the answer's `states`: a store may then answer `states: []`
   * and skip building them. Absent or `true`: the states are returned, as before.
   */
  wantStates?: boolean
}

export type ReserveResult =
  | { ok: true; replayed: boolean; states: ChargeState[]; events: StoreEvent[] }
  | { ok: false; denial: Denial; events: StoreEvent[] }

export interface SettleInput {
  id: string
  /** What the call really used: cost settles spend and credits, tokens settle token buckets. */
  actual: { costNanos: number; tokens: number }
  /**
   * `false` when the caller will not read the answer's `states`: a store may then answer `states: []`
   * and skip building them. Absent or `true`: the states are returned, as before.
   */
  wantStates?: boolean
}

export interface SettleResult {
  /** `expired`: the lease ran out first and the hold was reclaimed; nothing changes now. */
  status: 'settled' | 'already-settled' | 'released' | 'expired' | 'unknown'
  states: ChargeState[]
  events: StoreEvent[]
}

export interface ReleaseResult {
  status: 'released' | 'already-released' | 'settled' | 'expired' | 'unknown'
}

export interface PeekInput {
  scope: ScopeKey
  policies: readonly { policy: string; rule: LimitRule }[]
}

export interface AdjustInput {
  scope: ScopeKey
  policy: string
  rule: LimitRule
  /** Positive: a top-up, grant or extra allowance. Negative: a refund of spend or a debit of credits. */
  delta: number
  /** Credits only: when this grant expires (epoch ms). */
  expiresAt?: number
  /** Makes the adjustment idempotent; for a recharge, the key from the `recharge-due` event, which also clears the pending mark. */
  idempotencyKey?: string
}

/** Who owns an object an upstream call created (a stored response, a stored chat completion). */
export interface ClaimInput {
  /** The upstream object id, such as `resp_…` or `chatcmpl-…`. */
  objectId: string
  /** Who created it, as the OpenAI proxy names a caller (its scope, canonicalised). */
  owner: string
  /** How long the claim is kept, in ms (≥ 1). */
  ttlMs: number
}

/** A store that enforces keyguard limits. Methods may answer synchronously or with a promise. */
export interface KeyguardStore {
  reserve(input: ReserveInput): ReserveResult | Promise<ReserveResult>
  settle(input: SettleInput): SettleResult | Promise<SettleResult>
  release(id: string): ReleaseResult | Promise<ReleaseResult>
  peek(input: PeekInput): ChargeState[] | Promise<ChargeState[]>
  adjust(input: AdjustInput): ChargeState | Promise<ChargeState>
  /**
   * Record who owns an object, first claim wins: answers the owner after the call (the existing one
   * when the id was already claimed, and its TTL is left as it is). The OpenAI proxy needs it (with
   * {@link KeyguardStore.ownerOf}) to serve stored objects only to the caller that created them;
   * without both, the proxy refuses every read of a stored object.
   */
  claim?(input: ClaimInput): { owner: string } | Promise<{ owner: string }>
  /** The owner of an object claimed with {@link KeyguardStore.claim}, or `null` when unknown or expired. */
  ownerOf?(objectId: string): string | null | Promise<string | null>
}
