import { KeyguardError } from '@keyguard/core'

// What becomes part of a Redis key is checked before it reaches Redis: a key that hashes elsewhere
// (CROSSSLOT), or a string Lua's JSON cannot read (a lone surrogate), would otherwise fail inside
// Redis, where it looks like an outage.

/** Longest scope, policy or reservation id (UTF-16 units) a store call accepts. */
const MAX_ID_LENGTH = 1024

/**
 * What is wrong with `prefix` as keyguard's Cluster hash tag, or undefined. Redis hashes the text
 * between the first `{` and the first `}` after it, when that text is non-empty; keyguard needs
 * every key in one slot, so a prefix either has no braces (keyguard wraps it as `{prefix}`) or its
 * first `{…}` is a non-empty tag.
 */
export function prefixProblem(prefix: string): string | undefined {
  const open = prefix.indexOf('{')
  if (open === -1) {
    return prefix.includes('}')
      ? 'a `}` without `{`: use a prefix without braces, or a non-empty `{tag}`'
      : undefined
  }
  const close = prefix.indexOf('}', open + 1)
  if (close === -1) return 'an unclosed `{`: close the hash tag, e.g. `app{kg}`'
  if (close === open + 1)
    return 'its first `{}` is empty, so Redis hashes each whole key (CROSSSLOT in a Cluster): use a non-empty tag first, e.g. `app{kg}`'
  return undefined
}

// what String.prototype.isWellFormed() finds (ES2024; this regex works on every runtime)
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Throws `scope.invalid` when `value` cannot be part of a Redis key: not well-formed UTF-16, empty or too long. */
export function checkId(what: 'scope' | 'policy' | 'reservation id', value: string): void {
  const problem =
    typeof value !== 'string'
      ? 'is not a string'
      : value.length === 0
        ? 'is empty'
        : value.length > MAX_ID_LENGTH
          ? `is longer than ${MAX_ID_LENGTH} characters`
          : LONE_SURROGATE.test(value)
            ? 'is not well-formed UTF-16 (a lone surrogate)'
            : undefined
  if (!problem) return
  throw new KeyguardError({
    code: 'scope.invalid',
    message: `The ${what} ${problem}; the Redis store cannot key by it.`,
    operatorHint: `Pass ${what}s that are non-empty, well-formed strings of at most ${MAX_ID_LENGTH} characters (e.g. \`str.toWellFormed()\`, or hash long ids).`,
    details: { what, length: typeof value === 'string' ? value.length : undefined },
  })
}
