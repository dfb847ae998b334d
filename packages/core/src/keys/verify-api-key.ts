import { checkOptions } from '../config/check-options'
import { classifyOpenAIError } from '../errors/classify-openai-error'
import type { KeyguardErrorCode } from '../errors/codes'
import { KeyguardError } from '../errors/keyguard-error'
import { parseRateLimitHeaders, type UpstreamRateLimits } from '../errors/parse-rate-limit-headers'
import { Secret } from '../secrets/secret'
import { type ApiKeyKind, apiKeyKind, keyFingerprint } from './key-fingerprint'
import type { ApiKey } from './parse-api-key'

/** The outcome of a live key check. */
export type KeyStatusKind =
  | 'ok'
  | 'invalid'
  | 'no-quota'
  | 'mismatch'
  | 'region'
  | 'ip'
  | 'unreachable'
  | 'error'

/** What {@link verifyApiKey} found. Holds the key's fingerprint, never its value. */
export interface KeyStatus {
  ok: boolean
  status: KeyStatusKind
  /** `sk-proj…Wq8A`. */
  fingerprint: string
  kind: ApiKeyKind
  /** The classified failure, with `operatorHint` saying where to fix it. */
  error?: KeyguardError
  /** OpenAI's rate limits for the key, from the `x-ratelimit-*` headers of its answer. */
  rateLimits?: UpstreamRateLimits
  /** How many models the key can see. */
  modelCount?: number
}

/** Options for {@link verifyApiKey}. */
export interface VerifyApiKeyOptions {
  /** The API's base URL, up to `/v1`. @default 'https://api.openai.com/v1' */
  baseUrl?: string
  /** The fetch to use (a proxy's, the mock's). @default globalThis.fetch */
  fetch?: typeof fetch
  /** Sent as `OpenAI-Organization`. */
  organization?: string
  /** Sent as `OpenAI-Project`. */
  project?: string
  /** Give up after this long and report `unreachable`. @default 10000 */
  timeoutMs?: number
  signal?: AbortSignal
  /**
   * Also check quota and billing with a one-token embeddings call (`text-embedding-3-small`, about
   * $0.00000002). Listing models works without credits, so only this finds `no-quota`. @default false
   */
  checkQuota?: boolean
}

const verifyOptionKeys = [
  'baseUrl',
  'fetch',
  'organization',
  'project',
  'timeoutMs',
  'signal',
  'checkQuota',
] as const satisfies readonly (keyof VerifyApiKeyOptions)[]

const statusOf: Partial<Record<KeyguardErrorCode, KeyStatusKind>> = {
  'auth.invalid_key': 'invalid',
  'auth.admin_key_for_inference': 'invalid',
  // listing models needs `api.model.read`: a restricted key without it cannot be checked, nor used for that
  'auth.permission_denied': 'invalid',
  'auth.no_organization': 'mismatch',
  'auth.mismatched_project': 'mismatch',
  'auth.region_unsupported': 'region',
  'auth.ip_not_allowed': 'ip',
  'quota.insufficient': 'no-quota',
  'quota.spend_limit': 'no-quota',
  'upstream.timeout': 'unreachable',
  'upstream.connection': 'unreachable',
}

/**
 * Check a key live with `GET /v1/models` (and, when asked, a one-token call that needs quota). Never
 * throws for an expected outcome: an invalid key, no quota, a mismatched organization or project, a
 * blocked region or IP, a network failure or a timeout each come back as a status with an
 * operator hint. OpenAI's echo of the key is scrubbed from every message.
 *
 * @example
 * ```ts
 * const result = await verifyApiKey(apiKey, { project: 'proj_abc', checkQuota: true })
 * if (!result.ok) console.error(result.status, result.error?.operatorHint)
 * ```
 */
export async function verifyApiKey(
  key: ApiKey | Secret | string,
  options: VerifyApiKeyOptions = {},
): Promise<KeyStatus> {
  checkOptions('verifyApiKey', options, verifyOptionKeys)
  const {
    baseUrl = 'https://api.openai.com/v1',
    fetch: fetchFn = globalThis.fetch,
    organization,
    project,
    timeoutMs = 10_000,
    signal,
    checkQuota = false,
  } = options
  const secret = key instanceof Secret ? key : typeof key === 'string' ? Secret.from(key) : key.secret
  const value = secret.reveal()
  const base = { fingerprint: keyFingerprint(value), kind: apiKeyKind(value) }
  if (base.kind === 'admin') {
    const error = new KeyguardError({
      code: 'auth.admin_key_for_inference',
      message: `${base.fingerprint} is an admin key (sk-admin-), which works only for the Administration API.`,
      operatorHint:
        'Create a project key (sk-proj-) at https://platform.openai.com/api-keys for inference; keep the admin key for admin tasks.',
    })
    return { ...base, ok: false, status: 'invalid', error }
  }

  const headers: Record<string, string> = { authorization: `Bearer ${value}` }
  if (organization !== undefined) headers['openai-organization'] = organization
  if (project !== undefined) headers['openai-project'] = project
  const root = baseUrl.replace(/\/+$/, '')
  const classify = { secrets: [secret] }

  const call = async (path: string, init: RequestInit) => {
    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, timeoutMs)
    const onAbort = () => controller.abort()
    signal?.addEventListener('abort', onAbort)
    try {
      const response = await fetchFn(`${root}${path}`, { ...init, signal: controller.signal })
      if (!response.ok) return { error: await classifyOpenAIError(response, classify), response }
      const body: unknown = await response.json().catch(() => undefined)
      return { response, body }
    } catch (caught) {
      if (timedOut) {
        const error = new KeyguardError({
          code: 'upstream.timeout',
          message: `OpenAI did not answer ${path} within ${timeoutMs} ms.`,
          operatorHint: `Check network egress to ${new URL(root).host}, or raise timeoutMs.`,
        })
        return { error }
      }
      if (signal?.aborted) throw signal.reason
      return {
        error: classifyOpenAIError(caught instanceof Error ? caught : new Error(String(caught)), classify),
      }
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  const failed = (error: KeyguardError, rateLimits: UpstreamRateLimits | undefined): KeyStatus => ({
    ...base,
    ok: false,
    status: statusOf[error.code] ?? 'error',
    error,
    ...(rateLimits === undefined ? {} : { rateLimits }),
  })

  const models = await call('/models', { method: 'GET', headers })
  const rateLimits = models.response ? parseRateLimitHeaders(models.response.headers) : undefined
  if (models.error) return failed(models.error, rateLimits)
  const data = (models.body as { data?: unknown } | undefined)?.data
  const result: KeyStatus = {
    ...base,
    ok: true,
    status: 'ok',
    ...(rateLimits === undefined ? {} : { rateLimits }),
    ...(Array.isArray(data) ? { modelCount: data.length } : {}),
  }
  if (!checkQuota) return result

  const probe = await call('/embeddings', {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'text-embedding-3-small', input: 'ok' }),
  })
  if (probe.error) return failed(probe.error, rateLimits)
  const probeLimits = probe.response ? parseRateLimitHeaders(probe.response.headers) : undefined
  return probeLimits === undefined ? result : { ...result, rateLimits: { ...rateLimits, ...probeLimits } }
}
