import type { CreditsRule, KeyguardStore, ScopeKey, SpendRule } from '@keyguard/core'
import { parseOptions } from '@keyguard/core/adapter'
import * as z from 'zod/mini'
import { hasMethods } from '../client/options'
import type { LedgerQueries } from '../ledger/ledger-queries'
import { replayCredits } from '../ledger/replay-credits'

/** One state to restore: a spend state of the current period, or a credits balance. */
export interface RebuildTarget {
  scope: ScopeKey
  policy: string
  /** The rule as the guard builds it now (spend: for the current period). */
  rule: SpendRule | CreditsRule
}

/** Options for {@link rebuildStore}. */
export interface RebuildStoreOptions {
  /** The ledger to read from (`postgresLedger({ pool })`). */
  ledger: Pick<LedgerQueries, 'spentIn' | 'statement'>
  /** The store that lost its data. */
  store: KeyguardStore
  /** The states to restore: each `(scope, policy)` of a spend or credits limit that was in use. */
  targets: readonly RebuildTarget[]
}

/** What {@link rebuildStore} did for one target. */
export interface RebuildResult {
  scope: ScopeKey
  policy: string
  kind: 'spend' | 'credits'
  /** Nanos written into the store: spend added, or credits movements replayed. */
  restoredNanos: number
  /** Why nothing was written, when nothing was. */
  skipped?: 'up-to-date' | 'store-not-empty'
}

const withMethods = (names: readonly string[], message: string) =>
  z.custom<unknown>((value) => hasMethods(value, names), { message })

const rebuildOptions = /* @__PURE__ */ (() =>
  z.strictObject({
    ledger: withMethods(['spentIn', 'statement'], 'is not a ledger with spentIn() and statement()'),
    store: withMethods(['reserve', 'settle', 'adjust', 'peek'], 'is not a KeyguardStore'),
    targets: z.array(
      z.object({
        scope: z.string().check(z.minLength(1)),
        policy: z.string().check(z.minLength(1)),
        rule: z.custom<unknown>(
          (value) =>
            typeof value === 'object' &&
            value !== null &&
            ['spend', 'credits'].includes(String((value as { kind?: unknown }).kind)),
          { message: 'is not a spend or credits rule' },
        ),
      }),
    ),
  }))()

/**
 * Restore current-period spend and credit balances from the ledger into a store that lost them (Redis
 * restarted without persistence), so admissions resume where they stopped. Spend: the ledger's sum
 * for the period minus what the store already counts is settled into the period (a zero-amount
 * reservation settled at the difference: `adjust` on spend means a bonus or a refund, not spend).
 * Credits: the ledger's movements are replayed with the store's rules (expired grants gone, debt kept)
 * and the result written through `adjust` (what calls consumed, then each live grant with its expiry),
 * each under an idempotency key, and only into an empty credits state. Running it twice changes nothing.
 *
 * @param options - the ledger, the store and the states to restore.
 * @example
 * ```ts
 * const rule = await spend.ruleFor('t1', Date.now())
 * await rebuildStore({ ledger, store, targets: [{ scope: 'tenant:t1', policy: spend.name, rule }] })
 * ```
 */
export async function rebuildStore(options: RebuildStoreOptions): Promise<RebuildResult[]> {
  parseOptions(rebuildOptions, options, 'rebuildStore', {
    fixes: {
      ledger: 'pass the postgresLedger({ pool }) the guard records into',
      store: 'pass the store that lost its data, such as redisStore({ client })',
      targets: 'pass [{ scope, policy, rule }] for each spend or credits state to restore',
    },
  })
  const { ledger, store, targets } = options
  const results: RebuildResult[] = []
  for (const { scope, policy, rule } of targets) {
    const [state] = await store.peek({ scope, policies: [{ policy, rule }] })
    if (rule.kind === 'spend') {
      const recorded = await ledger.spentIn({ scope, policy, periodEndsAt: rule.period.endsAt })
      const missing = recorded - (state?.used ?? 0) - (state?.held ?? 0)
      if (missing <= 0) {
        results.push({ scope, policy, kind: 'spend', restoredNanos: 0, skipped: 'up-to-date' })
        continue
      }
      const id = `rebuild:${scope}:${policy}:${rule.period.id}:${recorded}`
      await store.reserve({ id, charges: [{ scope, policy, rule, amount: 0 }], leaseMs: 60_000 })
      await store.settle({ id, actual: { costNanos: missing, tokens: 0 } })
      results.push({ scope, policy, kind: 'spend', restoredNanos: missing })
      continue
    }
    // replaying into a balance that survived would count it twice
    if (state && (state.limit !== 0 || state.used !== 0 || state.held !== 0)) {
      results.push({ scope, policy, kind: 'credits', restoredNanos: 0, skipped: 'store-not-empty' })
      continue
    }
    const { movements } = await ledger.statement({ scope, policy })
    const { grants, debtNanos, consumedNanos } = replayCredits(movements, Date.now())
    // Consumed and debt first, through a grant that is used up at once (when there is debt, no grant
    // is left, and a grant made after it would pay it); then each live grant, expiry kept.
    const steps: { delta: number; expiresAt?: number; key: string }[] = [
      { delta: consumedNanos - debtNanos, key: 'consumed-grant' },
      { delta: -consumedNanos, key: 'consumed' },
      ...grants.map((grant) => ({
        delta: grant.amountNanos,
        ...(grant.expiresAt !== null ? { expiresAt: grant.expiresAt } : {}),
        key: `grant:${grant.id}`,
      })),
    ]
    let restoredNanos = 0
    for (const { delta, expiresAt, key } of steps) {
      if (delta === 0) continue
      await store.adjust({
        scope,
        policy,
        rule,
        delta,
        ...(expiresAt !== undefined ? { expiresAt } : {}),
        idempotencyKey: `rebuild:${scope}:${policy}:${key}`,
      })
      restoredNanos += Math.abs(delta)
    }
    results.push({ scope, policy, kind: 'credits', restoredNanos })
  }
  return results
}
