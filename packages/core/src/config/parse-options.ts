import type * as z from 'zod/mini'
import type { KeyguardProblem } from '../errors/keyguard-error'
import { configInvalid, type OptionKeys, unknownOptionProblems } from './check-options'
import { optionKeysOf } from './option-keys-of'
import { issueFix, issueMessage, issuePath } from './zod-issues'

/** How {@link parseOptions} words and extends its problems. */
export interface ParseOptionsExtras<Output> {
  /** Cross-field checks, run on the raw options too (when the schema failed), so one error lists every problem. */
  check?: (value: Output) => KeyguardProblem[]
  /** The fix to name for a problem under each top-level option, instead of one derived from the issue. */
  fixes?: OptionFixes
  /** Options that were renamed or moved, each with where it lives now: named as moved, not as unknown. */
  moved?: Readonly<Record<string, string>>
}

/** Fixes by top-level option, or a function that finds the fix for an issue's whole path. */
export type OptionFixes =
  | Readonly<Record<string, string>>
  | ((path: readonly PropertyKey[]) => string | undefined)

/**
 * Every problem of `options` against a `zod/mini` object schema, in keyguard's words: unknown keys
 * first (each with the closest known one), then what the schema found, each naming its path and a
 * fix. `data` is the parsed options when there is no problem (`ok`).
 *
 * @param label - the factory, as the user wrote it: `redisStore`.
 * @example
 * ```ts
 * const { data, problems } = optionProblems(schema, options, 'redisStore')
 * ```
 */
export function optionProblems<T extends z.ZodMiniType>(
  schema: T,
  options: unknown,
  label: string,
  { fixes = {}, moved = {} }: Pick<ParseOptionsExtras<unknown>, 'fixes' | 'moved'> = {},
): { ok: boolean; data: z.output<T> | undefined; problems: KeyguardProblem[] } {
  const result = schema.safeParse(options, { error: issueMessage })
  const problems = unknownOptionProblems(label, options, optionKeysOf(schema) as OptionKeys, moved)
  const fixOf =
    typeof fixes === 'function' ? fixes : (path: readonly PropertyKey[]) => fixes[String(path[0] ?? '')]
  if (!result.success)
    for (const issue of result.error.issues) {
      // unknown keys are listed above, each with its closest known key instead of zod's bare list
      if (issue.code === 'unrecognized_keys') continue
      const path = issuePath(issue.path)
      problems.push({
        code: issue.code,
        path,
        message: `${label}: ${path || 'options'} ${issue.message}`,
        fix: fixOf(issue.path) ?? issueFix(issue),
      })
    }
  const ok = result.success && problems.length === 0
  return { ok, data: ok ? result.data : undefined, problems }
}

/**
 * Parse a factory's options once, at construction, with a `zod/mini` schema: every problem
 * ({@link optionProblems}, then `extras.check`) is thrown in one `config.invalid` error naming each
 * option and its fix. Returns the parsed options, frozen.
 *
 * @param label - the factory, as the user wrote it: `redisStore`.
 * @example
 * ```ts
 * const schema = z.strictObject({ timeoutMs: z.optional(z.int().check(z.positive())) })
 * const { timeoutMs = 250 } = parseOptions(schema, options, 'redisStore')
 * // KeyguardError config.invalid: redisStore: 1 problem in the options:
 * // - timeoutMs is not above 0 (fix: use a value above 0)
 * ```
 */
export function parseOptions<T extends z.ZodMiniType>(
  schema: T,
  options: unknown,
  label: string,
  extras: ParseOptionsExtras<z.output<T>> = {},
): z.output<T> {
  const { ok, data, problems } = optionProblems(schema, options, label, extras)
  if (extras.check)
    try {
      problems.push(...extras.check(ok ? (data as z.output<T>) : (options as z.output<T>)))
    } catch {
      // the raw options were too malformed to check further; the schema problems say why
    }
  if (problems.length > 0 || !ok) throw configInvalid(label, problems)
  return Object.freeze(data) as z.output<T>
}
