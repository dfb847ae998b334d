import type { LimitKind, ScopeKey } from '../limits/store'
import type { SettleEvent } from './keyguard-events'
import { scrub } from './scrub-error'
import type { Shared } from './shared'

/** One settled call, as a ledger keeps it: never the key itself, only its name and fingerprint. */
export interface LedgerCallEntry {
  type: 'call'
  /** The reservation id: unique per upstream attempt, so a ledger can record each call once. */
  reservationId: string
  /** The request's scope values (`{ tenant: 't1', user: 'u9', key: 'default', model }`). */
  scope: Readonly<Record<string, string | undefined>>
  keyName: string
  /** The key's fingerprint, such as `sk-proj…Wq8A`. */
  fingerprint: string
  model: string | undefined
  endpoint: string
  /** Tokens by kind from the priced usage (`input`, `cachedInput`, `output`, `reasoning`, `total`). */
  tokens: Readonly<Record<string, number>>
  /** What was charged, in nano-USD. */
  costNanos: number
  ending: SettleEvent['ending']
  estimated: boolean
  /** The limits the call was charged to: spend by its period's end (`resetAt`), credits consumed. */
  charges: readonly { scope: ScopeKey; policy: string; kind: LimitKind; resetAt: number | null }[]
  /** Epoch ms: when the call was reserved, and when it settled. */
  startedAt: number
  settledAt: number
  /** OpenAI's `x-request-id`, to reconcile with OpenAI's own logs. */
  upstreamRequestId: string | undefined
}

/** Credits moving in or out of a scope's balance. */
export interface LedgerCreditEntry {
  type: 'credit'
  /** Unique per movement (a grant's idempotency key, `consume:<reservation id>`): recorded once. */
  id: string
  kind: 'grant' | 'consume' | 'recharge' | 'expiry'
  scope: ScopeKey
  policy: string
  /** Always positive; `kind` says which way it moved. */
  amountNanos: number
  /** A grant's expiry, in epoch ms. */
  expiresAt?: number
  reservationId?: string
  /** Epoch ms. */
  at: number
}

/** What a {@link KeyguardLedger} records. */
export type LedgerEntry = LedgerCallEntry | LedgerCreditEntry

/**
 * A durable record of every settled call and credit movement (`postgresLedger` in `@keyguard/postgres`).
 * `record` is called on the settle path and must not block or throw: queue the entry and write it
 * later; `flush` writes what is queued (call it at shutdown).
 *
 * @example
 * ```ts
 * const entries: LedgerEntry[] = []
 * const ledger: KeyguardLedger = { record: (entry) => void entries.push(entry), flush: async () => {} }
 * const guard = createKeyguard({ key, ledger })
 * ```
 */
export interface KeyguardLedger {
  record(entry: LedgerEntry): void
  flush(): Promise<void>
}

/** @internal The ledger entries of one settle: the call, and the credits it consumed when it settled. */
export function settleEntries(
  event: SettleEvent,
  extra: {
    keyName: string
    fingerprint: string
    startedAt: number
    settledAt: number
    upstreamRequestId: string | undefined
    settled: boolean
  },
): LedgerEntry[] {
  const reservationId = event.reservationId || `call:${crypto.randomUUID()}`
  // Only a settle the store accepted moved money as costNanos; an expired lease was reclaimed at its hold.
  const charges = extra.settled
    ? event.states
        .filter((state) => state.kind === 'spend' || state.kind === 'credits')
        .map(({ scope, policy, kind, resetAt }) => ({ scope, policy, kind, resetAt }))
    : []
  const tokens: Record<string, number> = event.cost ? { ...event.cost.tokens } : {}
  const entries: LedgerEntry[] = [
    {
      type: 'call',
      reservationId,
      scope: { ...event.scope },
      keyName: extra.keyName,
      fingerprint: extra.fingerprint,
      model: event.model,
      endpoint: event.endpoint,
      tokens,
      costNanos: event.costNanos,
      ending: event.ending,
      estimated: event.estimated,
      charges,
      startedAt: extra.startedAt,
      settledAt: extra.settledAt,
      upstreamRequestId: extra.upstreamRequestId,
    },
  ]
  for (const charge of charges) {
    if (charge.kind !== 'credits' || event.costNanos === 0) continue
    entries.push({
      type: 'credit',
      id: `consume:${reservationId}:${charge.scope}:${charge.policy}`,
      kind: 'consume',
      scope: charge.scope,
      policy: charge.policy,
      amountNanos: event.costNanos,
      reservationId,
      at: extra.settledAt,
    })
  }
  return entries
}

/** @internal Hand entries to the configured ledger; one that throws is logged, never the caller's problem. */
export function recordEntries(options: Shared['options'], entries: () => readonly LedgerEntry[]): void {
  if (!options.ledger) return
  try {
    for (const entry of entries()) options.ledger.record(entry)
  } catch (error) {
    options.logger.error('keyguard: the ledger refused an entry', { error: scrub(error, options) })
  }
}
