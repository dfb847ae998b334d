import { KeyguardError, type KeyguardProblem } from '../errors/keyguard-error'

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
): void {
  const all = [...unknownOptionProblems(label, options, known), ...problems]
  if (all.length > 0) throw configInvalid(label, all)
}

/** @internal The unknown keys of `options` (and of the nested objects `known` describes), as problems. */
export function unknownOptionProblems(
  label: string,
  options: unknown,
  known: OptionKeys,
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
      problems.push(...unknownOptionProblems(label, value, nested, at))
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

/**
 * @internal The candidate closest to `name` by edit distance (case-insensitive), when it is close
 * enough to be a typo: at most a third of the name's letters differ (at least one).
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const wanted = name.toLowerCase()
  const allowed = Math.max(1, Math.round(wanted.length / 3))
  let best: string | undefined
  let bestDistance = allowed + 1
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.
function editDistance(left: string, right: string): number {
  const rows: number[][] = Array.from({ length: left.length + 1 }, (_, index) => [index])
  for (let column = 1; column <= right.length; column++) (rows[0] as number[])[column] = column
  for (let row = 1; row <= left.length; row++) {
    const current = rows[row] as number[]
    for (let column = 1; column <= right.length; column++) {
      const cost = left[row - 1] === right[column - 1] ? 0 : 1
      const above = rows[row - 1] as number[]
      let distance = Math.min(
        (above[column] as number) + 1,
        (current[column - 1] as number) + 1,
        (above[column - 1] as number) + cost,
      )
      if (row > 1 && column > 1 && left[row - 1] === right[column - 2] && left[row - 2] === right[column - 1])
        distance = Math.min(distance, ((rows[row - 2] as number[])[column - 2] as number) + 1)
      current[column] = distance
    }
  }
  return (rows[left.length] as number[])[right.length] as number
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}

function withoutLabel(label: string, message: string): string {
  return message.startsWith(`${label}: `) ? message.slice(label.length + 2) : message
}
