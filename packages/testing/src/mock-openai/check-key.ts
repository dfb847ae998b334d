import { mockErrors } from './mock-errors'
import type { MockResponse } from './mock-response'

/**
 * Check the presented key as OpenAI does: the 401 answer for a missing key or one not in `accepted`
 * (`undefined` accepts any key), or `undefined` when the key may pass.
 *
 * @example
 * ```ts
 * const refusal = checkKey(recorded.key, new Set(['sk-proj-test']))
 * if (refusal) return answer(refusal)
 * ```
 */
export function checkKey(
  key: string | undefined,
  accepted: ReadonlySet<string> | undefined,
): MockResponse | undefined {
  if (key === undefined || key === '') return mockErrors.missingKey()
  if (accepted !== undefined && !accepted.has(key)) return mockErrors.invalidKey()
  return undefined
}
