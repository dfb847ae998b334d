import type { z } from 'zod'
import { KeyguardError, type KeyguardProblem } from '../errors/keyguard-error'
import type { LimitKind, LimitRule } from './store'

/** Who a request is for: `{ tenant: 't1', user: 'u9' }`. `global` is always implied. */
export type RequestScope = Readonly<Record<string, string | undefined>>

/** A limit policy: what to limit, for which scope kind. Build one with `spendLimit`, `requestLimit`… */
export interface LimitPolicy {
  /** Unique among the policies of a scope kind, such as `monthly-spend`. */
  readonly name: string
  /** The scope kind it applies to: `tenant`, `user`, `key`, `model`, `global` or your own. */
  readonly kind: LimitKind
  readonly scope: string
  /** @internal The rule for one scope id at an instant. */
  readonly ruleFor: (id: string, now: number) => LimitRule | Promise<LimitRule>
  /** @internal Credits only: the app's recharge function. */
  readonly recharge?: (scope: string, amount: number, idempotencyKey: string) => Promise<void> | void
}

/** @internal Parse options once, listing every problem in one `config.invalid` error. */
export function parseOptions<T extends z.ZodType>(
  schema: T,
  options: unknown,
  label: string,
  extra: (value: z.output<T>) => KeyguardProblem[] = () => [],
): z.output<T> {
  const result = schema.safeParse(options)
  const problems: KeyguardProblem[] = result.success
    ? extra(result.data)
    : result.error.issues.map((issue) => {
        const path = issue.path.join('.')
        return {
          code: issue.code,
          path,
          message: `${label}: ${path || 'options'} ${issue.message}`,
          fix: fixFor(issue),
        }
      })
  if (problems.length > 0 || !result.success) {
    throw new KeyguardError({
      code: 'config.invalid',
      message: `${label}: ${problems.length} invalid option${problems.length === 1 ? '' : 's'}: ${problems.map((p) => p.message).join('; ')}`,
      problems,
    })
  }
  return Object.freeze(result.data) as z.output<T>
}

function fixFor(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_small':
      return `use a value of at least ${String(issue.minimum)}`
    case 'too_big':
      return `use a value of at most ${String(issue.maximum)}`
    case 'invalid_type':
      return `pass a ${issue.expected}`
    case 'unrecognized_keys':
      return `remove ${issue.keys.join(', ')}`
    default:
      return issue.message
  }
}
