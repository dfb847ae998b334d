import * as z from 'zod/mini'
import { parseOptions } from '../config/parse-options'
import type { KeyguardProblem } from '../errors/keyguard-error'
import type { Nanos } from '../pricing/usd'
import type { LimitPolicy, WhenScopeMissing } from './limit-policy'
import { isTimeZone, periodOf } from './period-of'
import { countSchema, nameSchema, positiveSchema, scopeSchema, whenMissingSchema } from './rule-schemas'
import type { CreditsRule } from './store'

/** Options for {@link credits}. Amounts are integer nano-USD. */
export interface CreditsOptions<Scope extends string = string> {
  /** @default 'credits' */
  name?: string
  /** The scope kind that holds a balance, such as `tenant`. */
  scope: Scope
  /**
   * What a request whose scope has no id for this kind counts against: `refuse` it (`scope.missing`),
   * `skip` this limit, or count it against `{ id }`. @default 'refuse'
   */
  whenMissing?: WhenScopeMissing
  /** Emit `credits-low` when the balance falls below this many nanos (`usd(1)`). */
  lowBalance?: Nanos
  /** Top the balance up when it falls below `threshold`. */
  autoRecharge?: {
    /** Nanos (`usd(2)`). */
    threshold: Nanos
    /** Nanos added each time (`usd(10)`). */
    amount: Nanos
    /** Most recharges per period. */
    maxPerPeriod: number
    /** The period `maxPerPeriod` counts in. @default 'month' */
    period?: 'day' | 'week' | 'month'
    /** @default 'UTC' */
    timeZone?: string
    /** Charge the customer and resolve when done; keyguard then grants `amount` under `idempotencyKey`. */
    recharge: (scope: string, amount: number, idempotencyKey: string) => Promise<void> | void
  }
}

const schema = /* @__PURE__ */ (() =>
  z.strictObject({
    name: nameSchema,
    scope: scopeSchema,
    whenMissing: whenMissingSchema,
    lowBalance: z.optional(countSchema),
    autoRecharge: z.optional(
      z.strictObject({
        threshold: countSchema,
        amount: positiveSchema,
        maxPerPeriod: positiveSchema,
        period: z.optional(z.enum(['day', 'week', 'month'])),
        timeZone: z.optional(z.string()),
        recharge: z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', {
          message: 'must be a function (scope, amount, idempotencyKey) that charges the customer',
        }),
      }),
    ),
  }))()

/**
 * A prepaid balance per scope: grants (which may expire) consumed oldest first; a request whose
 * maximum cost the balance cannot cover fails with `credits.exhausted`. Grant credits with the
 * store's `adjust` (or the guard's `credits.grant`).
 *
 * @param options - the scope kind, the low-balance mark and auto-recharge.
 * @example
 * ```ts
 * const prepaid = credits({
 *   scope: 'tenant',
 *   lowBalance: usd(5),
 *   autoRecharge: { threshold: usd(2), amount: usd(20), maxPerPeriod: 3, recharge: chargeCard },
 * })
 * ```
 */
export function credits<const Scope extends string>(options: CreditsOptions<Scope>): LimitPolicy<Scope> {
  const parsed = parseOptions(schema, options, 'credits', { check: problemsOf })
  const auto = parsed.autoRecharge
  const recharge = options.autoRecharge?.recharge
  const recharges = { period: auto?.period ?? 'month', timeZone: auto?.timeZone ?? 'UTC' } as const
  const ruleFor = (_id: string, now: number): CreditsRule => {
    const rule: CreditsRule = { kind: 'credits' }
    if (parsed.lowBalance !== undefined) rule.lowBalanceNanos = parsed.lowBalance
    if (auto) {
      rule.autoRecharge = {
        thresholdNanos: auto.threshold,
        amountNanos: auto.amount,
        maxPerPeriod: auto.maxPerPeriod,
        period: { ...periodOf(now, recharges), of: recharges },
      }
    }
    return rule
  }
  return Object.freeze({
    name: parsed.name ?? 'credits',
    kind: 'credits',
    scope: options.scope,
    whenMissing: parsed.whenMissing ?? 'refuse',
    ruleFor,
    ...(recharge ? { recharge } : {}),
  })
}

function problemsOf(options: z.output<typeof schema>): KeyguardProblem[] {
  const auto = options.autoRecharge
  if (auto?.timeZone !== undefined && !isTimeZone(auto.timeZone)) {
    return [
      {
        code: 'time_zone_unknown',
        path: 'autoRecharge.timeZone',
        message: 'credits: autoRecharge.timeZone is not an IANA time zone this runtime knows',
        fix: "use a zone such as 'UTC' or 'Europe/Paris'",
      },
    ]
  }
  return []
}
