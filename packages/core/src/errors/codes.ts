/**
 * Every error keyguard raises or reports, as a closed union. A new code does not compile until
 * {@link errorCodeTable} says how an app should answer it.
 */
export type KeyguardErrorCode =
  // local: decided by keyguard before anything is sent upstream
  | 'budget.hard_limit'
  | 'rate.requests'
  | 'rate.tokens'
  | 'rate.concurrency'
  | 'credits.exhausted'
  | 'estimate.unknown_model'
  | 'estimate.too_large'
  | 'store.unavailable'
  | 'store.misconfigured'
  | 'scope.invalid'
  | 'config.invalid'
  | 'key.invalid'
  | 'key.missing'
  | 'key.in_browser'
  // upstream: reported by OpenAI and classified
  | 'auth.invalid_key'
  | 'auth.no_organization'
  | 'auth.mismatched_project'
  | 'auth.ip_not_allowed'
  | 'auth.region_unsupported'
  | 'auth.admin_key_for_inference'
  | 'auth.permission_denied'
  | 'quota.insufficient'
  | 'quota.spend_limit'
  | 'rate.upstream'
  | 'request.too_large_for_tpm'
  | 'request.context_length'
  | 'request.invalid'
  | 'request.content_policy'
  | 'model.not_found'
  | 'upstream.overloaded'
  | 'upstream.server_error'
  | 'upstream.timeout'
  | 'upstream.connection'
  // edge: decided by an adapter or the proxy before the guard runs
  | 'client.unauthorized'
  | 'scope.missing'
  | 'request.body_too_large'
  | 'proxy.endpoint_not_allowed'

/** How an app should answer one code to its own client. */
export interface ErrorCodeInfo {
  /**
   * HTTP status for the app's own client. Operator problems (key, billing) are 503, never a blame on the
   * client. A 429 is only ever answered for a retryable error (see `KeyguardError.clientStatus`).
   */
  clientStatus: number
  /**
   * Whether a client may retry the same request automatically and succeed (`x-should-retry`). Money
   * refusals (`budget.hard_limit`, `credits.exhausted`) are not: the app surfaces them, and the error's
   * `retryAfterMs` still says when a budget resets.
   */
  retryable: boolean
  /** A message that is safe to show the app's end user: no key, no internals. */
  userMessage: string
}

const operatorProblem = 'The AI service is temporarily unavailable. Please try again later.'

/** The one table that maps each code to its client status, retryability and user-safe message. */
export const errorCodeTable: Readonly<Record<KeyguardErrorCode, ErrorCodeInfo>> =
  /* @__PURE__ */ Object.freeze({
    // a money refusal is the app's to surface, never retried automatically; retryAfterMs says when it resets.
    // 402, not 429: clients that decide retries by status alone (the Vercel AI SDK, LangChain) retry every
    // 429 whatever x-should-retry says, and none retries a 402
    'budget.hard_limit': {
      clientStatus: 402,
      retryable: false,
      userMessage: 'The spending limit for this period has been reached.',
    },
    'rate.requests': {
      clientStatus: 429,
      retryable: true,
      userMessage: 'Too many requests. Please slow down and retry shortly.',
    },
    'rate.tokens': {
      clientStatus: 429,
      retryable: true,
      userMessage: 'Too many tokens requested. Please retry shortly.',
    },
    'rate.concurrency': {
      clientStatus: 429,
      retryable: true,
      userMessage: 'Too many requests at once. Please retry when one finishes.',
    },
    'credits.exhausted': {
      clientStatus: 402,
      retryable: false,
      userMessage: 'Your credit balance is too low for this request.',
    },
    'estimate.unknown_model': {
      clientStatus: 400,
      retryable: false,
      userMessage: 'This model is not available.',
    },
    'estimate.too_large': { clientStatus: 413, retryable: false, userMessage: 'This request is too large.' },
    'store.unavailable': { clientStatus: 503, retryable: true, userMessage: operatorProblem },
    // the store answers but cannot work as configured (CROSSSLOT, OOM, WRONGTYPE, a script error…):
    // never an outage, never a breaker opened for other tenants; the operator hint names the fix
    'store.misconfigured': { clientStatus: 503, retryable: false, userMessage: operatorProblem },
    // a scope or policy id a store cannot key by (not well-formed UTF-16, too long): this request only
    'scope.invalid': {
      clientStatus: 400,
      retryable: false,
      userMessage: 'This request names who it is for in a way that cannot be used.',
    },
    'config.invalid': { clientStatus: 500, retryable: false, userMessage: operatorProblem },
    'key.invalid': { clientStatus: 503, retryable: false, userMessage: operatorProblem },
    'key.missing': { clientStatus: 503, retryable: false, userMessage: operatorProblem },
    'key.in_browser': { clientStatus: 500, retryable: false, userMessage: operatorProblem },
    'auth.invalid_key': { clientStatus: 503, retryable: false, userMessage: operatorProblem },
    'auth.no_organization': { clientStatus: 503, retryable: false, userMessage: operatorProblem },
    'auth.mismatched_project': { clientStatus: 503, retryable: false, userMessage: operatorProblem },
    'auth.ip_not_allowed': { clientStatus: 503, retryable: false, userMessage: operatorProblem },
    'auth.region_unsupported': { clientStatus: 503, retryable: false, userMessage: operatorProblem },
    'auth.admin_key_for_inference': { clientStatus: 503, retryable: false, userMessage: operatorProblem },
    'auth.permission_denied': { clientStatus: 503, retryable: false, userMessage: operatorProblem },
    'quota.insufficient': { clientStatus: 503, retryable: false, userMessage: operatorProblem },
    'quota.spend_limit': { clientStatus: 503, retryable: false, userMessage: operatorProblem },
    'rate.upstream': {
      clientStatus: 503,
      retryable: true,
      userMessage: 'The AI service is busy. Please retry shortly.',
    },
    'request.too_large_for_tpm': {
      clientStatus: 413,
      retryable: false,
      userMessage: 'This request is too large to process. Please shorten it.',
    },
    'request.context_length': {
      clientStatus: 400,
      retryable: false,
      userMessage: "This request is longer than the model's context window.",
    },
    'request.invalid': { clientStatus: 400, retryable: false, userMessage: 'The request was not valid.' },
    'request.content_policy': {
      clientStatus: 400,
      retryable: false,
      userMessage: 'The request was rejected by the content policy.',
    },
    'model.not_found': { clientStatus: 400, retryable: false, userMessage: 'This model is not available.' },
    'upstream.overloaded': {
      clientStatus: 503,
      retryable: true,
      userMessage: 'The AI service is overloaded. Please retry shortly.',
    },
    'upstream.server_error': {
      clientStatus: 502,
      retryable: true,
      userMessage: 'The AI service had an error. Please retry.',
    },
    'upstream.timeout': {
      clientStatus: 504,
      retryable: true,
      userMessage: 'The AI service took too long to answer. Please retry.',
    },
    'upstream.connection': {
      clientStatus: 502,
      retryable: true,
      userMessage: 'Could not reach the AI service. Please retry.',
    },
    'client.unauthorized': {
      clientStatus: 401,
      retryable: false,
      userMessage: 'Missing or invalid API key.',
    },
    // The app chooses every scope (the end user never can): a request whose scope lacks a kind a limit is
    // keyed by is the app's bug, so 500 with a user-safe message; the operator hint names the limit and the
    // kind. An adapter whose scope function returns `undefined` (the app saying "this caller did not
    // identify itself") answers 400 instead, see guardRequest.
    'scope.missing': {
      clientStatus: 500,
      retryable: false,
      userMessage: 'This service cannot tell who this request is for. Please contact its operator.',
    },
    'request.body_too_large': {
      clientStatus: 413,
      retryable: false,
      userMessage: 'The request body is too large.',
    },
    'proxy.endpoint_not_allowed': {
      clientStatus: 404,
      retryable: false,
      userMessage: 'This endpoint is not available through this proxy.',
    },
  })

/** Every code, for exhaustive tests and documentation. */
export const keyguardErrorCodes = /* @__PURE__ */ Object.freeze(
  /* @__PURE__ */ Object.keys(errorCodeTable) as KeyguardErrorCode[],
)
