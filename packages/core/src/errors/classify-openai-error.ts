import { scrubSecrets } from '../secrets/scrub-secrets'
import type { Secret } from '../secrets/secret'
import { errorCodeTable, type KeyguardErrorCode } from './codes'
import { type HeadersLike, readHeader } from './headers-like'
import { KeyguardError, type UpstreamErrorInfo } from './keyguard-error'
import { type OpenAIErrorMatch, type OpenAIErrorRule, openaiErrorRules } from './openai-error-rules'
import { parseGoDuration, parseRetryAfter } from './parse-retry-after'

/** An openai-node `APIError` (or any error shaped like one). */
export interface APIErrorLike {
  status?: number | undefined
  /** The `error` object of OpenAI's body. */
  error?: unknown
  headers?: HeadersLike | undefined
  requestID?: string | null | undefined
  code?: string | null | undefined
  type?: string | undefined
  param?: string | null | undefined
  message: string
}

/** What {@link classifyOpenAIError} accepts besides a `Response`: a parsed body (or a stream error event) with its status. */
export interface ParsedErrorInput {
  /** HTTP status; absent for an error event in the middle of a stream. */
  status?: number | undefined
  headers?: HeadersLike | undefined
  /** OpenAI's body (`{ error: {...} }`), its `error` object, a stream `error` event, or the raw text. */
  body?: unknown
}

/** Every form {@link classifyOpenAIError} accepts. */
export type ErrorInput = Response | ParsedErrorInput | APIErrorLike | Error

/** Options for {@link classifyOpenAIError}. */
export interface ClassifyOptions {
  /** Secrets to scrub from OpenAI's message besides anything shaped like a key. */
  secrets?: Iterable<Secret | string>
  /**
   * Called once per unknown `error.code` (per hook function), so the table can be updated; the error
   * still gets a safe classification from its type and status. Pass your logger's warn here.
   * @default no warning (a library prints nothing by itself)
   */
  onUnknownCode?: (code: string) => void
  /**
   * Whose key made the call. `operator` (the app's own key): key and billing problems are a 503 with a
   * message that blames nobody. `user` (the end user brought the key): they are the user's to fix, so
   * 401/403/402 with a message saying so. @default 'operator'
   */
  keyOwner?: 'operator' | 'user'
  /** The current time, for a `Retry-After` HTTP date. @default Date.now */
  now?: () => number
}

interface OpenAIErrorFields {
  status: number | undefined
  headers: HeadersLike | undefined
  code: string | undefined
  type: string | undefined
  param: string | undefined
  message: string | undefined
  requestId: string | undefined
  /** A failure to reach OpenAI at all, from the error's class. */
  transport?: 'timeout' | 'connection'
}

/**
 * Turn an OpenAI error into a {@link KeyguardError}: from a fetch `Response` (its body is read, so the
 * call returns a Promise), an openai-node `APIError`, a parsed body with its status, or an error event
 * from the middle of a stream. Classified by `error.code`, then `type`, then status, then message
 * (see {@link openaiErrorRules}); the key OpenAI echoes in 401 messages is scrubbed.
 *
 * @example
 * ```ts
 * const response = await fetch('https://api.openai.com/v1/chat/completions', init)
 * if (!response.ok) throw await classifyOpenAIError(response, { secrets: [apiKey.secret] })
 * ```
 */
export function classifyOpenAIError(input: Response, options?: ClassifyOptions): Promise<KeyguardError>
export function classifyOpenAIError(
  input: ParsedErrorInput | APIErrorLike | Error,
  options?: ClassifyOptions,
): KeyguardError
export function classifyOpenAIError(
  input: ErrorInput,
  options: ClassifyOptions = {},
): KeyguardError | Promise<KeyguardError> {
  if (isResponse(input)) {
    return input.text().then(
      (text) => classifyFields(fieldsFrom(input.status, input.headers, text), options),
      () => classifyFields(fieldsFrom(input.status, input.headers, undefined), options),
    )
  }
  return classifyFields(fieldsOf(input), options)
}

function isResponse(value: unknown): value is Response {
  return (
    (typeof Response !== 'undefined' && value instanceof Response) ||
    (isRecord(value) &&
      typeof value.text === 'function' &&
      typeof value.status === 'number' &&
      isRecord(value.headers) &&
      typeof value.headers.get === 'function')
  )
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null
}

const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined)

function fieldsOf(input: Exclude<ErrorInput, Response>): OpenAIErrorFields {
  if (
    input instanceof Error ||
    (isRecord(input) && 'error' in input && 'message' in input && !('body' in input))
  ) {
    const error = input as Partial<APIErrorLike> & Error
    const inner = isRecord(error.error) ? error.error : {}
    const fields: OpenAIErrorFields = {
      status: typeof error.status === 'number' ? error.status : undefined,
      headers: isRecord(error.headers) ? (error.headers as HeadersLike) : undefined,
      code: text(error.code) ?? text(inner.code),
      type: text(error.type) ?? text(inner.type),
      param: text(error.param) ?? text(inner.param),
      message: text(inner.message) ?? text(error.message),
      requestId: text(error.requestID) ?? undefined,
    }
    if (fields.status === undefined && fields.code === undefined && fields.type === undefined) {
      const name = `${error.constructor?.name ?? ''} ${error.name ?? ''}`
      if (/Timeout/i.test(name) || /timed out/i.test(error.message ?? '')) fields.transport = 'timeout'
      else if (
        /Connection|TypeError|FetchError/i.test(name) ||
        /connection error|fetch failed/i.test(error.message ?? '')
      )
        fields.transport = 'connection'
    }
    return fields
  }
  const parsed = input as ParsedErrorInput
  return fieldsFrom(parsed.status, parsed.headers, parsed.body)
}

function fieldsFrom(
  status: number | undefined,
  headers: HeadersLike | undefined,
  body: unknown,
): OpenAIErrorFields {
  let value = body
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value)
    } catch {
      // not JSON: an HTML page from a gateway, say; the status decides
      value = undefined
    }
  }
  let inner: Record<string, unknown> = {}
  if (isRecord(value)) {
    if (isRecord(value.error)) inner = value.error
    else if (isRecord(value.response) && isRecord(value.response.error)) inner = value.response.error
    else inner = value
  }
  const type = text(inner.type)
  return {
    status,
    headers,
    code: text(inner.code),
    // a Responses stream event's own type (`error`, `response.failed`) is not OpenAI's error type
    type: type === 'error' || type?.startsWith('response.') ? undefined : type,
    param: text(inner.param),
    message: text(inner.message),
    requestId: readHeader(headers, 'x-request-id'),
  }
}

function matches(pattern: string | RegExp | undefined, value: string | undefined): boolean {
  if (pattern === undefined) return true
  if (value === undefined) return false
  return typeof pattern === 'string' ? pattern === value : pattern.test(value)
}

function statusMatches(pattern: OpenAIErrorMatch['status'], status: number | undefined): boolean {
  if (pattern === undefined) return true
  if (status === undefined) return false
  return typeof pattern === 'number' ? pattern === status : status >= pattern[0] && status <= pattern[1]
}

function ruleMatches(rule: OpenAIErrorRule, fields: OpenAIErrorFields): boolean {
  const { match } = rule
  return (
    matches(match.code, fields.code) &&
    matches(match.type, fields.type) &&
    statusMatches(match.status, fields.status) &&
    (match.message === undefined || (fields.message !== undefined && match.message.test(fields.message)))
  )
}

const warnedByHook = new WeakMap<(code: string) => void, Set<string>>()
// Libraries print nothing: without a hook (the guard passes its logger's), unknown codes are only classified.
const defaultOnUnknownCode = (_code: string) => {}

function warnOnce(hook: (code: string) => void, code: string) {
  let seen = warnedByHook.get(hook)
  if (seen === undefined) {
    seen = new Set()
    warnedByHook.set(hook, seen)
  }
  if (seen.has(code)) return
  seen.add(code)
  hook(code)
}

const userOwned: Partial<Record<KeyguardErrorCode, { clientStatus: number; userMessage: string }>> = {
  'auth.invalid_key': {
    clientStatus: 401,
    userMessage: 'OpenAI rejected your API key. Check it and try again.',
  },
  'auth.no_organization': { clientStatus: 401, userMessage: 'Your OpenAI account has no organization.' },
  'auth.mismatched_project': {
    clientStatus: 401,
    userMessage: 'Your OpenAI key does not belong to the organization or project given.',
  },
  'auth.ip_not_allowed': {
    clientStatus: 403,
    userMessage: "Your OpenAI project's IP allowlist blocks this server.",
  },
  'auth.region_unsupported': { clientStatus: 403, userMessage: 'OpenAI does not serve this region.' },
  'auth.admin_key_for_inference': {
    clientStatus: 401,
    userMessage: 'An OpenAI admin key cannot call models; use a project key.',
  },
  'auth.permission_denied': {
    clientStatus: 403,
    userMessage:
      'Your OpenAI key lacks a permission this call needs (a restricted key, or a role or project without access).',
  },
  'quota.insufficient': {
    clientStatus: 402,
    userMessage: 'Your OpenAI account has no quota left. Check its plan and billing.',
  },
  'quota.spend_limit': { clientStatus: 402, userMessage: 'Your OpenAI spend limit has been reached.' },
}

function classifyFields(fields: OpenAIErrorFields, options: ClassifyOptions): KeyguardError {
  const { secrets = [], onUnknownCode = defaultOnUnknownCode, keyOwner = 'operator', now } = options
  const scrub = (value: string) => scrubSecrets(value, secrets)
  const upstream: UpstreamErrorInfo = {}
  if (fields.status !== undefined) upstream.status = fields.status
  if (fields.type !== undefined) upstream.type = scrub(fields.type)
  if (fields.code !== undefined) upstream.code = scrub(fields.code)
  if (fields.param !== undefined) upstream.param = scrub(fields.param)
  if (fields.requestId !== undefined) upstream.requestId = scrub(fields.requestId)

  if (fields.transport !== undefined) {
    const code = fields.transport === 'timeout' ? 'upstream.timeout' : 'upstream.connection'
    return new KeyguardError({
      code,
      message: `Could not get an answer from OpenAI: ${scrub(fields.message ?? code)}`,
      operatorHint:
        fields.transport === 'timeout'
          ? 'OpenAI did not answer in time: retry, or raise the timeout for long generations.'
          : 'Could not connect to OpenAI: check network egress, DNS, proxy settings and the base URL.',
      upstream,
    })
  }

  if (
    fields.code !== undefined &&
    !openaiErrorRules.some((rule) => rule.match.code !== undefined && matches(rule.match.code, fields.code))
  ) {
    warnOnce(onUnknownCode, fields.code)
  }
  const rule = openaiErrorRules.find((candidate) => ruleMatches(candidate, fields))
  const code: KeyguardErrorCode = rule?.code ?? 'upstream.server_error'
  const hint =
    rule?.hint ?? 'OpenAI reported an error keyguard could not classify; retry, and report it if it persists.'
  const info = errorCodeTable[code]
  // OpenAI's own `x-should-retry: false` overrules the table: no client is told to retry against it
  const refusedRetry = readHeader(fields.headers, 'x-should-retry') === 'false'
  const retryAfterMs = info.retryable && !refusedRetry ? retryAfter(fields, now) : undefined
  const message = scrub(fields.message ?? 'no message')
  const label = [fields.status, fields.code ?? fields.type].filter((part) => part !== undefined).join(' ')
  const owner = keyOwner === 'user' ? userOwned[code] : undefined
  return new KeyguardError({
    code,
    message: `OpenAI error${label === '' ? '' : ` (${label})`}: ${message}`,
    operatorHint: hint,
    upstream,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(refusedRetry ? { retryable: false } : {}),
    ...(owner === undefined ? {} : owner),
  })
}

function retryAfter(fields: OpenAIErrorFields, now: (() => number) | undefined): number | undefined {
  const fromHeaders = parseRetryAfter(fields.headers, now === undefined ? {} : { now })
  if (fromHeaders !== undefined) return fromHeaders
  // "Please try again in 2.5s" / "in 20ms" / "in 1m30s" in rate-limit messages
  const hinted = /try again in ((?:\d+(?:\.\d+)?(?:h|ms|m|s))+)/i.exec(fields.message ?? '')?.[1]
  const ms = hinted === undefined ? undefined : parseGoDuration(hinted)
  return ms === undefined ? undefined : Math.ceil(ms)
}
