import { Secret } from '../secrets/secret'

/** The kinds of OpenAI key, by prefix. */
export type ApiKeyKind = 'project' | 'service-account' | 'admin' | 'legacy-user' | 'unknown'

// Longest first: `sk-` is the prefix of every other OpenAI kind.
const kindPrefixes: readonly (readonly [string, ApiKeyKind])[] = [
  ['sk-proj-', 'project'],
  ['sk-svcacct-', 'service-account'],
  ['sk-admin-', 'admin'],
  ['sk-', 'legacy-user'],
]

/**
 * The kind of an OpenAI key from its prefix; `unknown` when it has none of OpenAI's prefixes.
 *
 * @example
 * ```ts
 * apiKeyKind('sk-proj-abc…') // 'project'
 * ```
 */
export function apiKeyKind(value: string): ApiKeyKind {
  for (const [prefix, kind] of kindPrefixes) if (value.startsWith(prefix)) return kind
  return 'unknown'
}

// Below this length, the last 4 characters would be too large a share of the value to show.
const minLengthForTail = 16

/**
 * A safe label for a key: its kind prefix and last 4 characters (`sk-proj…Wq8A`), never more.
 * A key of unknown kind shows only its last 4 (`…Wq8A`); a short value shows only its prefix.
 *
 * @example
 * ```ts
 * keyFingerprint(apiKey.secret.reveal()) // 'sk-proj…Wq8A'
 * ```
 */
export function keyFingerprint(value: string | Secret): string {
  const text = value instanceof Secret ? value.reveal() : value
  const kind = apiKeyKind(text)
  const prefix = kindPrefixes.find(([, k]) => k === kind)?.[0].slice(0, -1) ?? ''
  const tail = text.length >= minLengthForTail ? text.slice(-4) : ''
  return `${prefix}…${tail}`
}

/**
 * A short, stable id for a key, for correlating log lines without its value: `key_` and the first
 * 12 hex digits of its SHA-256 (Web Crypto).
 *
 * @example
 * ```ts
 * logger.info({ key: await keyId(apiKey.secret) }, 'using key')
 * ```
 */
export async function keyId(value: string | Secret): Promise<string> {
  const text = value instanceof Secret ? value.reveal() : value
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))
  const hex = Array.from(digest.subarray(0, 6), (byte) => byte.toString(16).padStart(2, '0')).join('')
  return `key_${hex}`
}
