import { type ErrorCodeInfo, errorCodeTable, type KeyguardErrorCode } from './codes'

const marker = Symbol.for('keyguard.error')

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
  /** Override the table's retryability. */
  retryable?: boolean
  /** How long to wait before retrying, when known. */
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
  readonly [marker] = true
  readonly code: KeyguardErrorCode
  readonly retryable: boolean
  readonly retryAfterMs: number | undefined
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
    this.code = options.code
    this.retryable = options.retryable ?? info.retryable
    this.retryAfterMs = options.retryAfterMs
    this.clientStatus = options.clientStatus ?? info.clientStatus
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
