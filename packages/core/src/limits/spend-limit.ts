import * as z from 'zod/mini'
import { parseOptions } from '../config/parse-options'
import type { KeyguardProblem } from '../errors/keyguard-error'
import type { Nanos } from '../pricing/usd'
import type { LimitPolicy, WhenScopeMissing } from './limit-policy'
import { isTimeZone, periodOf } from './period-of'
import { countSchema, nameSchema, scopeSchema, whenMissingSchema } from './rule-schemas'
import type { SpendRule } from './store'

/** Options for {@link spendLimit}. Amounts are integer nano-USD (`usd(100)`). */
export interface SpendLimitOptions<Scope extends string = string> {
  /** @default `spend-<period>` */
  name?: string
  /** The scope kind it applies to: `tenant`, `user`, `key`, `model` or `global`. */
  scope: Scope
  /**
   * What a request whose scope has no id for this kind counts against: `refuse` it (`scope.missing`),
   * `skip` this limit, or count it against `{ id }`. @default 'refuse'
   */
  whenMissing?: WhenScopeMissing
  /** The limit per period for every scope without its own (`limitFor`, `overrides`). */
  limit?: Nanos
  period: 'day' | 'week' | 'month'
  /** An IANA time zone for the calendar. @default 'UTC' */
  timeZone?: string
  /** Month periods: the day the billing period starts (1–31), clamped to short months. @default 1 */
  anchorDay?: number
  /** `hard` blocks at the limit; `soft` only notifies (the limit is then a threshold too). @default 'hard' */
  mode?: 'hard' | 'soft'
  /** Fractions of the limit that fire a `soft-limit` event once per period, such as `[0.5, 0.8]`. @default [] */
  softAt?: number[]
  /** Per-scope limits (plan tiers), by scope id; `undefined` falls back to `overrides`, then `limit`. */
  limitFor?: (id: string) => Nanos | undefined | Promise<Nanos | undefined>
  /** Stored per-scope limits by scope id, such as `{ t1: usd(100), t2: usd(10) }`. @default {} */
  overrides?: Readonly<Record<string, Nanos>>
}

const schema = /* @__PURE__ */ (() =>
  z.strictObject({
    name: nameSchema,
    scope: scopeSchema,
    whenMissing: whenMissingSchema,
    limit: z.optional(countSchema),
    period: z.enum(['day', 'week', 'month']),
    timeZone: z.optional(z.string()),
    anchorDay: z.optional(z.int().check(z.minimum(1), z.maximum(31))),
    mode: z.optional(z.enum(['hard', 'soft'])),
    softAt: z.optional(
      z.array(
        z
          .number()
          .check(
            z.positive(),
            z.maximum(1, { message: 'has a soft threshold above the limit (a fraction over 1)' }),
          ),
      ),
    ),
    limitFor: z.optional(
      z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', {
        message: 'must be a function (id) => nanos',
      }),
    ),
    overrides: z.optional(z.record(z.string(), countSchema)),
  }))()

/**
 * A spend limit per calendar period (day, ISO week, or month from a billing anchor day), in UTC or
 * an IANA time zone. `hard` blocks a request whose maximum cost does not fit; soft thresholds fire
 * a `soft-limit` event once per period per scope.
 *
 * @param options - the scope kind, the limit, the period and the thresholds.
 * @example
 * ```ts
 * const monthly = spendLimit({ scope: 'tenant', limit: usd(100), period: 'month', softAt: [0.5, 0.8] })
 * ```
 */
export function spendLimit<const Scope extends string>(
  options: SpendLimitOptions<Scope>,
): LimitPolicy<Scope> {
  const parsed = parseOptions(schema, options, 'spendLimit', { check: problemsOf })
  const {
    period,
    timeZone = 'UTC',
    anchorDay = 1,
    mode = 'hard',
    softAt = [],
    whenMissing = 'refuse',
  } = parsed
  const overrides = Object.freeze({ ...parsed.overrides })
  const limitFor = options.limitFor
  const fractions = [...new Set(softAt)].sort((a, b) => a - b)
  const ruleFor = async (id: string, now: number): Promise<SpendRule> => {
    const resolved =
      (await limitFor?.(id)) ?? (Object.hasOwn(overrides, id) ? overrides[id] : undefined) ?? parsed.limit
    if (resolved !== undefined && !(Number.isSafeInteger(resolved) && resolved >= 0)) {
      throw new RangeError(
        `spendLimit: limitFor('${id}') must answer a safe integer ≥ 0 of nanos, or undefined`,
      )
    }
    const soft = resolved === undefined ? [] : fractions.map((f) => Math.ceil(f * resolved))
    if (mode === 'soft' && resolved !== undefined && !soft.includes(resolved)) soft.push(resolved)
    return {
      kind: 'spend',
      limitNanos: mode === 'hard' && resolved !== undefined ? resolved : null,
      period: { ...periodOf(now, { period, timeZone, anchorDay }), of: { period, timeZone, anchorDay } },
      softNanos: soft,
    }
  }
  return Object.freeze({
    name: parsed.name ?? `spend-${period}`,
    kind: 'spend',
    scope: options.scope,
    whenMissing,
    ruleFor,
  })
}

function problemsOf(options: z.output<typeof schema>): KeyguardProblem[] {
  const problems: KeyguardProblem[] = []
  const hasLimit =
    options.limit !== undefined || options.limitFor !== undefined || options.overrides !== undefined
  if (!hasLimit) {
    problems.push({
      code: 'limit_missing',
      path: 'limit',
      message: 'spendLimit: no limit, limitFor or overrides',
      fix: 'set limit (nanos, such as usd(100)) or limitFor(id)',
    })
  }
  if (options.timeZone !== undefined && !isTimeZone(options.timeZone)) {
    problems.push({
      code: 'time_zone_unknown',
      path: 'timeZone',
      message: 'spendLimit: timeZone is not an IANA time zone this runtime knows',
      fix: "use a zone such as 'UTC' or 'Europe/Paris'",
    })
  }
  if (options.anchorDay !== undefined && options.period !== 'month') {
    problems.push({
      code: 'anchor_day_not_month',
      path: 'anchorDay',
      message: `spendLimit: anchorDay applies to month periods, not ${options.period}`,
      fix: "remove anchorDay or use period: 'month'",
    })
  }
  return problems
}
