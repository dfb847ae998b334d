/**
 * Mask a key the way OpenAI echoes it in a 401 message: the first 8 characters, stars, the last 4
 * (`sk-proj-****…Wq8A`).
 *
 * @example
 * ```ts
 * maskKeyLikeOpenAI('sk-proj-abcdefghijklWq8A') // 'sk-proj-************Wq8A'
 * ```
 */
export function maskKeyLikeOpenAI(key: string): string {
  if (key.length <= 12) return `${key.slice(0, 3)}${'*'.repeat(Math.max(key.length - 3, 0))}`
  return `${key.slice(0, 8)}${'*'.repeat(key.length - 12)}${key.slice(-4)}`
}
