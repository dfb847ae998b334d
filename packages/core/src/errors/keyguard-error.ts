import { type ErrorCodeInfo, errorCodeTable, type KeyguardErrorCode } from './codes'

const marker = /* @__PURE__ */ Symbol.for('keyguard.error')

/**
 * The longest wait an error may ask a client to sit through and still be `retryable`. openai-node
 * and openai-python honour `retry-after-ms` / `Retry-After` only up to a minute and fall back to their
 * own short backoff beyond it, so a longer wait told as retryable would be retried at once, in vain.
 *
 * @example
 * ```ts
 * if (error.retryAfterMs !== undefined && error.retryAfterMs > maxAutoRetryWaitMs) scheduleForLater(error)
 * ```
 */
export const maxAutoRetryWaitMs = 60_000

// The status a rate refusal takes when it is not retryable (a wait over maxAutoRetryWaitMs, or none
// known). Clients that decide retries by status alone (the Vercel AI SDK, LangChain) retry every 429
// whatever x-should-retry says, so a refusal no client should retry is never a 429; 403 with Retry-After
// is how other APIs (GitHub, Google) refuse a quota that resets later.
const notRetryableRateLimitStatus = 403

/** What OpenAI said, when an error came from upstream. Never holds a key. */
export interface UpstreamErrorInfo {
  status?: number
  type?: string
  code?: string
  param?: string
  requestId?: string
}

/** One problem found in configuration or a key, with the fix. Values are never included, only their shape. */
export interface KeyguardProblem {
  /** A short machine-readable code, such as `quoted` or `min_not_positive`. */
  code: string
  /** Where the problem is: an option path (`limits[0].amount`) or a variable name (`OPENAI_API_KEY`). */
  path?: string
  /** What is wrong. */
  message: string
  /** What to do about it. */
  fix: string
}

/** Options for constructing a {@link KeyguardError}. */
export interface KeyguardErrorOptions {
  code: KeyguardErrorCode
  /** The operator-facing message. Must not contain a secret. */
  message: string
  /** What to fix and where, for the operator's logs. @default the message */
  operatorHint?: string
  /** Override the table's user-safe message. */
  userMessage?: string
  /** Override the table's client status. */
  clientStatus?: number
  /**
   * Override the table's retryability. Either way a wait over {@link maxAutoRetryWaitMs} makes the
   * error not retryable: no client should sit through it.
   */
  retryable?: boolean
  /** The earliest the same request may succeed, when known, in ms (rounded up to a whole ms). */
  retryAfterMs?: number
  upstream?: UpstreamErrorInfo
  problems?: readonly KeyguardProblem[]
  /** Extra structured detail (scope, policy, limit…); must not contain a secret. */
  details?: Readonly<Record<string, unknown>>
  cause?: unknown
}

/**
 * The one error class keyguard throws. Detect it with {@link isKeyguardError}, which works across
 * duplicate copies of the package (ESM and CJS, two versions).
 *
 * @example
 * ```ts
 * try {
 *   await guard.fetch(url, init)
 * } catch (error) {
 *   if (isKeyguardError(error)) console.warn(error.code, error.operatorHint)
 * }
 * ```
 */
export class KeyguardError extends Error {
  declare readonly [marker]: true
  readonly code: KeyguardErrorCode
  /**
   * Whether retrying the same request automatically may succeed: the code's table value (or the
   * override), and no wait longer than {@link maxAutoRetryWaitMs}. Every answer keyguard builds from
   * this error (`x-should-retry`, the problem body's `retryable`) says exactly this.
   */
  readonly retryable: boolean
  /**
   * The earliest the same request may succeed, in whole ms, when known; also on a non-retryable error
   * (a budget that resets next month). `retry-after-ms` and `Retry-After` (seconds, rounded up) say this.
   */
  readonly retryAfterMs: number | undefined
  /**
   * The HTTP status for the app's own client: the override, else the code's table value, except that
   * a 429 that is not retryable becomes 403: clients that decide retries by status alone (the Vercel
   * AI SDK, LangChain) retry every 429, whatever `x-should-retry` says.
   */
  readonly clientStatus: number
  readonly userMessage: string
  readonly operatorHint: string
  readonly upstream: UpstreamErrorInfo | undefined
  readonly problems: readonly KeyguardProblem[]
  readonly details: Readonly<Record<string, unknown>>

  constructor(options: KeyguardErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause })
    const info: ErrorCodeInfo = errorCodeTable[options.code]
    this.name = 'KeyguardError'
    // set here, not as a class field with a computed key, which bundlers cannot drop when unused
    ;(this as { [marker]: true })[marker] = true
    this.code = options.code
    const wait = options.retryAfterMs
    this.retryAfterMs =
      wait === undefined || !Number.isFinite(wait) ? undefined : Math.max(0, Math.ceil(wait))
    this.retryable =
      (options.retryable ?? info.retryable) &&
      (this.retryAfterMs === undefined || this.retryAfterMs <= maxAutoRetryWaitMs)
    this.clientStatus =
      options.clientStatus ??
      (info.clientStatus === 429 && !this.retryable ? notRetryableRateLimitStatus : info.clientStatus)
    this.userMessage = options.userMessage ?? info.userMessage
    this.operatorHint = options.operatorHint ?? options.message
    this.upstream = options.upstream
    this.problems = Object.freeze([...(options.problems ?? [])])
    this.details = Object.freeze({ ...options.details })
  }

  /** A plain, secret-free view for logs and JSON. The cause is left out: it may hold anything. */
  toJSON() {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      retryAfterMs: this.retryAfterMs,
      clientStatus: this.clientStatus,
      userMessage: this.userMessage,
      operatorHint: this.operatorHint,
      upstream: this.upstream,
      problems: this.problems,
      details: this.details,
    }
  }
}

/**
 * Whether a value is a {@link KeyguardError}, from this copy of keyguard or any other.
 *
 * @example
 * ```ts
 * if (isKeyguardError(error) && error.retryable) retryLater(error.retryAfterMs)
 * ```
 */
export function isKeyguardError(value: unknown): value is KeyguardError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true
}
