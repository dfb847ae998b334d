import { closest, distance } from 'fastest-levenshtein'

/**
 * The candidate nearest to `value` when it is near enough to be a typo of it (at most a third of its
 * characters off, and at least one), else `undefined`: `gpt-4o-mimi` → `gpt-4o-mini`, but
 * `gpt-9-ultra` → nothing, since no priced model is a slip of the keyboard away.
 *
 * @example
 * ```ts
 * suggest('gtp-4o', ['gpt-4o', 'o3']) // 'gpt-4o'
 * suggest('gpt-9-ultra', ['gpt-5-pro']) // undefined
 * ```
 */
export function suggest(value: string, candidates: readonly string[]): string | undefined {
  if (value === '' || candidates.length === 0) return undefined
  const nearest = closest(value, [...candidates])
  return distance(value, nearest) <= Math.max(1, Math.floor(value.length / 3)) ? nearest : undefined
}
