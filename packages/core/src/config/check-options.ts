import { KeyguardError, type KeyguardProblem } from '../errors/keyguard-error'
import { closestName } from './closest-name'

/**
 * The keys an options object may have: a list of names, or an object whose values describe a nested
 * options object (`true` when the value is not an options object checked key by key).
 *
 * @example
 * ```ts
 * const known: OptionKeys = { client: true, prefix: true, breaker: ['failureThreshold', 'cooldownMs'] }
 * ```
 */
export type OptionKeys = readonly string[] | { readonly [name: string]: OptionKeys | true }

/**
 * Check a factory's options once, at construction: every key `known` does not list is a problem that
 * names the closest known key (`unknown option \`limit\`; did you mean \`limits\`?`), and together with
 * the `problems` the caller found itself they are thrown as one `config.invalid` error. Nothing is
 * thrown when there is no problem. A non-object `options` is a problem too (`undefined` is no options).
 *
 * @param label - the factory, as the user wrote it: `createKeyguard`, `redisStore`.
 * @param options - the options object as given.
 * @param known - the keys it may have; nested objects are checked when described.
 * @param problems - problems already found (schema issues, cross-field checks), listed after the unknown keys.
 * @param moved - options that no longer exist here, each with where it lives now (`{ now: 'createKeyguard({ now })' }`):
 *   an upgrading user is told the new place instead of an unknown option.
 * @example
 * ```ts
 * checkOptions('memoryStore', options, ['now', 'maxKeys'])
 * // KeyguardError config.invalid: memoryStore: unknown option `maxkeys`; did you mean `maxKeys`?
 * ```
 */
export function checkOptions(
  label: string,
  options: unknown,
  known: OptionKeys,
  problems: readonly KeyguardProblem[] = [],
  moved: Readonly<Record<string, string>> = {},
): void {
  const all = [...unknownOptionProblems(label, options, known, moved), ...problems]
  if (all.length > 0) throw configInvalid(label, all)
}

/**
 * @internal The unknown keys of `options` (and of the nested objects `known` describes), as problems;
 * a key `moved` lists (by its path) names its new place.
 */
export function unknownOptionProblems(
  label: string,
  options: unknown,
  known: OptionKeys,
  moved: Readonly<Record<string, string>> = {},
  path = '',
): KeyguardProblem[] {
  if (options === undefined) return []
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    if (path) return []
    return [
      {
        code: 'not_an_object',
        path: 'options',
        message: `${label}: the options must be an object, not ${describeValue(options)}`,
        fix: `pass one options object: ${label}({ … })`,
      },
    ]
  }
  const names = Array.isArray(known) ? (known as readonly string[]) : Object.keys(known)
  const problems: KeyguardProblem[] = []
  for (const [name, value] of Object.entries(options)) {
    const at = path ? `${path}.${name}` : name
    const movedTo = names.includes(name) ? undefined : moved[at]
    if (movedTo !== undefined) {
      problems.push({
        code: 'moved_option',
        path: at,
        message: `${label}: option \`${at}\` has moved; it is now ${movedTo}`,
        fix: `write it as ${movedTo}`,
      })
      continue
    }
    if (!names.includes(name)) {
      const closest = closestName(name, names)
      problems.push({
        code: 'unknown_option',
        path: at,
        message: `${label}: unknown option \`${at}\`${closest ? `; did you mean \`${path ? `${path}.` : ''}${closest}\`?` : ''}`,
        fix: closest
          ? `rename it to ${closest}`
          : `remove it; the known options${path ? ` of ${path}` : ''} are ${names.join(', ')}`,
      })
      continue
    }
    const nested = Array.isArray(known) ? true : (known as Record<string, OptionKeys | true>)[name]
    if (nested !== true && nested !== undefined)
      problems.push(...unknownOptionProblems(label, value, nested, moved, at))
  }
  return problems
}

/** @internal One `config.invalid` error listing every problem, each with its fix. */
export function configInvalid(
  label: string,
  problems: readonly KeyguardProblem[],
  what = 'the options',
): KeyguardError {
  const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`
  return new KeyguardError({
    code: 'config.invalid',
    message: `${label}: ${count} in ${what}:\n${problems.map((problem) => `- ${withoutLabel(label, problem.message)} (fix: ${problem.fix})`).join('\n')}`,
    operatorHint: problems.map((problem) => `${problem.path ?? label}: ${problem.fix}`).join('; '),
    problems,
  })
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}

function withoutLabel(label: string, message: string): string {
  return message.startsWith(`${label}: `) ? message.slice(label.length + 2) : message
}
