/**
 * Whether a value is a JSON object (not `null`, not an array).
 *
 * @example
 * ```ts
 * const fields = isRecord(body) ? body : {}
 * ```
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
