import { checkOptions } from '../config/check-options'
import { isKeyguardError, KeyguardError, type KeyguardProblem } from '../errors/keyguard-error'
import { Secret } from '../secrets/secret'
import { type ApiKey, type ParseApiKeyOptions, parseApiKey } from './parse-api-key'

/** One entry of a key ring: a raw value, a {@link Secret}, an {@link ApiKey}, or a value with its own options. */
export type KeyRingEntry =
  | string
  | Secret
  | ApiKey
  | ({ value: string | Secret } & Omit<ParseApiKeyOptions, 'name'> & {
        labels?: Readonly<Record<string, string>>
      })

/** A key with its ring label and the labels limits can scope by. */
export interface KeyRingKey extends ApiKey {
  /** The key's name in the ring, such as `default`, `batch` or a tenant id. */
  readonly label: string
  /** Free-form labels (`tenant`, `team`…) that limit policies can scope by. */
  readonly labels: Readonly<Record<string, string>>
}

/** Several named keys, checked together. */
export interface KeyRing {
  /** The key with this label; throws `key.missing` when there is none. */
  get(label?: string): KeyRingKey
  has(label: string): boolean
  /** Every label, in the order given. */
  readonly labels: readonly string[]
  /** Every key's secret, to pass to `scrubSecrets` or a logger's redaction. */
  secrets(): Secret[]
}

/** Options for {@link createKeyRing}. */
export interface KeyRingOptions extends Omit<ParseApiKeyOptions, 'name' | 'source'> {
  /** The label `get()` returns without an argument. @default 'default' */
  defaultLabel?: string
}

const isApiKey = (value: unknown): value is ApiKey =>
  typeof value === 'object' && value !== null && 'secret' in value && 'fingerprint' in value

/**
 * Build a ring of named keys (`default`, `batch`, a tenant's own key…). Every key is checked and
 * every problem of every key is reported in one `KeyguardError`, each problem's `path` naming the key.
 *
 * @example
 * ```ts
 * const ring = createKeyRing({
 *   default: env.OPENAI_API_KEY,
 *   batch: { value: env.OPENAI_BATCH_KEY, labels: { team: 'data' } },
 * })
 * ring.get('batch').fingerprint // 'sk-proj…Wq8A'
 * ```
 */
export function createKeyRing(
  entries: Readonly<Record<string, KeyRingEntry>>,
  options: KeyRingOptions = {},
): KeyRing {
  checkOptions('createKeyRing', options, [
    'defaultLabel',
    'allowUnknown',
    'purpose',
    'dangerouslyAllowBrowser',
  ])
  const { defaultLabel = 'default', ...parseOptions } = options
  const keys = new Map<string, KeyRingKey>()
  const problems: KeyguardProblem[] = []
  let onlyMissing = true
  for (const [label, entry] of Object.entries(entries)) {
    try {
      const { key, labels } = parseEntry(label, entry, parseOptions)
      keys.set(label, Object.freeze({ ...key, label, labels: Object.freeze({ ...labels }) }))
    } catch (error) {
      if (!isKeyguardError(error)) throw error
      if (error.code !== 'key.missing') onlyMissing = false
      if (error.code === 'key.in_browser') throw error
      problems.push(...error.problems.map((problem) => ({ ...problem, path: label })))
    }
  }
  if (problems.length > 0) {
    throw new KeyguardError({
      code: onlyMissing ? 'key.missing' : 'key.invalid',
      message: `The key ring has ${problems.length === 1 ? '1 problem' : `${problems.length} problems`}:\n${problems
        .map((problem) => `- ${problem.path}: ${problem.message} Fix: ${problem.fix}`)
        .join('\n')}`,
      operatorHint: problems.map((problem) => `${problem.path}: ${problem.fix}`).join(' '),
      problems,
    })
  }
  const labels = Object.freeze([...keys.keys()])
  return Object.freeze({
    labels,
    has: (label: string) => keys.has(label),
    get(label: string = defaultLabel) {
      const key = keys.get(label)
      if (key) return key
      throw new KeyguardError({
        code: 'key.missing',
        message: `The key ring has no key labelled "${label}" (it has: ${labels.join(', ') || 'none'}).`,
        operatorHint: `Add a "${label}" key to the ring, or use one of: ${labels.join(', ') || 'none'}.`,
      })
    },
    secrets: () => [...keys.values()].map((key) => key.secret),
  })
}

function parseEntry(
  label: string,
  entry: KeyRingEntry,
  options: Omit<ParseApiKeyOptions, 'name' | 'source'>,
): { key: ApiKey; labels: Readonly<Record<string, string>> | undefined } {
  if (isApiKey(entry)) return { key: entry, labels: undefined }
  if (typeof entry === 'string' || entry instanceof Secret)
    return { key: parseApiKey(entry, { ...options, name: label }), labels: undefined }
  const { value, labels, ...own } = entry
  return { key: parseApiKey(value, { ...options, ...own, name: label }), labels }
}
