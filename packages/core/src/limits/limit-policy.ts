import type * as z from 'zod/mini'
import { configInvalid, type OptionKeys, unknownOptionProblems } from '../config/check-options'
import { optionKeysOf } from '../config/option-keys-of'
import type { KeyguardProblem } from '../errors/keyguard-error'
import type { LimitKind, LimitRule } from './store'

/**
 * Who a request is for: `{ tenant: 't1', user: 'u9' }`. `global` is always implied.
 *
 * @example
 * ```ts
 * const scope: RequestScope = { tenant: 't1', user: 'u9', key: 'default', model: 'gpt-4o' }
 * ```
 */
export type RequestScope = Readonly<Record<string, string | undefined>>

/**
 * A limit policy: what to limit, for which scope kind. Build one with `spendLimit`, `requestLimit`…
 *
 * @example
 * ```ts
 * const policies: LimitPolicy[] = [requestLimit({ scope: 'user', limit: 60, windowMs: 60_000 })]
 * ```
 */
export interface LimitPolicy<Scope extends string = string> {
  /** Unique among the policies of a scope kind, such as `monthly-spend`. */
  readonly name: string
  readonly kind: LimitKind
  /** The scope kind it applies to: `tenant`, `user`, `key`, `model`, `global` or your own. */
  readonly scope: Scope
  /** What a request whose scope names no id for this kind counts against. @default 'refuse' */
  readonly whenMissing?: WhenScopeMissing
  /** @internal The rule for one scope id at an instant. */
  readonly ruleFor: (id: string, now: number) => LimitRule | Promise<LimitRule>
  /** @internal Credits only: the app's recharge function. */
  readonly recharge?: (scope: string, amount: number, idempotencyKey: string) => Promise<void> | void
}

/**
 * What a limit does with a request whose scope has no id for the limit's kind (the key is missing,
 * `undefined`, empty or not a string): `refuse` it with `scope.missing` (the default: what keyguard
 * cannot scope, it refuses), `skip` this limit for it, or count it against one shared `id` (such as
 * `{ id: 'anonymous' }`, so every unidentified request shares one budget).
 *
 * @example
 * ```ts
 * const perUser = requestLimit({ scope: 'user', limit: 20, windowMs: 60_000, whenMissing: { id: 'anonymous' } })
 * ```
 */
export type WhenScopeMissing = 'refuse' | 'skip' | { readonly id: string }

/** @internal Parse options once, listing every problem in one `config.invalid` error. */
export function parseOptions<T extends z.ZodMiniType>(
  schema: T,
  options: unknown,
  label: string,
  extra: (value: z.output<T>) => KeyguardProblem[] = () => [],
  moved: Readonly<Record<string, string>> = {},
): z.output<T> {
  // Every message is ours or the schema's own: left to zod, an issue takes zod's global locale, which
  // full `zod` installs as soon as any module in the process imports it (an app's own code, the AI SDK),
  // so the same options would read differently from one app to the next.
  const result = schema.safeParse(options, { error: messageFor })
  // Unknown keys are reported with the closest known one, instead of zod's bare list.
  const problems: KeyguardProblem[] = unknownOptionProblems(
    label,
    options,
    optionKeysOf(schema) as OptionKeys,
    moved,
  )
  if (!result.success)
    for (const issue of result.error.issues) {
      if (issue.code === 'unrecognized_keys') continue
      const path = issue.path.join('.')
      problems.push({
        code: issue.code,
        path,
        message: `${label}: ${path || 'options'} ${issue.message}`,
        fix: fixFor(issue),
      })
    }
  // cross-field checks run on the raw options too, so one error lists every problem
  const raw = result.success ? result.data : (options as z.output<T>)
  try {
    problems.push(...extra(raw))
  } catch {
    // the raw options were too malformed to check further; the schema problems say why
  }
  if (problems.length > 0 || !result.success) throw configInvalid(label, problems)
  return Object.freeze(result.data) as z.output<T>
}

function messageFor(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'too_small':
      return `is below the minimum (${String(issue.minimum)})`
    case 'too_big':
      return `is above the maximum (${String(issue.maximum)})`
    case 'invalid_type':
      return `is not ${article(issue.expected)} ${issue.expected}`
    case 'invalid_value':
      return `is not one of ${issue.values.map(String).join(', ')}`
    default:
      return 'is invalid'
  }
}

function fixFor(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_small':
      return `use a value of at least ${String(issue.minimum)}`
    case 'too_big':
      return `use a value of at most ${String(issue.maximum)}`
    case 'invalid_type':
      return `pass ${article(issue.expected)} ${issue.expected}`
    default:
      return issue.message
  }
}

function article(noun: string): string {
  return /^[aeiou]/.test(noun) ? 'an' : 'a'
}
