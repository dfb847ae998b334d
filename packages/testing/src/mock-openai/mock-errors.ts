import { maskKeyLikeOpenAI } from './mask-key-like-openai'
import type { MockContext, MockResponse } from './mock-response'

/** The body OpenAI sends with every error. */
export interface OpenAIErrorObject {
  message: string
  type: string
  param: string | null
  code: string | null
}

const error = (status: number, body: OpenAIErrorObject, headers?: Record<string, string>): MockResponse => ({
  status,
  body: { error: body },
  ...(headers === undefined ? {} : { headers }),
})

/**
 * Scripted upstream failures with the bodies, statuses and headers OpenAI really sends. Pass them to
 * `mock.enqueue(...)` (one-shot) or `createMockOpenAI({ keyResponses })` (every call with one key).
 *
 * @example
 * ```ts
 * const mock = createMockOpenAI()
 * mock.enqueue(mockErrors.rateLimited({ retryAfterMs: 1200 }), mockErrors.serverError())
 * ```
 */
export const mockErrors = Object.freeze({
  /** 401 `invalid_api_key`, echoing the presented key in OpenAI's masked form. */
  invalidKey: (): MockResponse => ({
    status: 401,
    body: ({ key }: MockContext) => ({
      error: {
        message: `Incorrect API key provided: ${maskKeyLikeOpenAI(key ?? '')}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    }),
  }),
  /** 401 when no `Authorization` header was sent. */
  missingKey: (): MockResponse =>
    error(401, {
      message:
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from https://platform.openai.com/account/api-keys.",
      type: 'invalid_request_error',
      param: null,
      code: null,
    }),
  /** 429 `insufficient_quota`: billing not set up or credits exhausted. Not a rate limit. */
  insufficientQuota: (): MockResponse =>
    error(429, {
      message:
        'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
      type: 'insufficient_quota',
      param: null,
      code: 'insufficient_quota',
    }),
  /** 429 `rate_limit_exceeded` with `retry-after-ms`, `retry-after` and exhausted `x-ratelimit-*` headers. */
  rateLimited: (
    options: { retryAfterMs?: number; limit?: 'requests' | 'tokens'; model?: string } = {},
  ): MockResponse => {
    const { retryAfterMs = 1000, limit = 'requests', model = 'gpt-4o-mini' } = options
    const seconds = retryAfterMs / 1000
    const unit =
      limit === 'requests'
        ? 'requests per min (RPM): Limit 500, Used 500, Requested 1'
        : 'tokens per min (TPM): Limit 200000, Used 199500, Requested 1200'
    return error(
      429,
      {
        message: `Rate limit reached for ${model} in organization org-mock on ${unit}. Please try again in ${seconds}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
        type: limit,
        param: null,
        code: 'rate_limit_exceeded',
      },
      {
        'retry-after-ms': String(retryAfterMs),
        'retry-after': String(Math.ceil(seconds)),
        [`x-ratelimit-remaining-${limit}`]: '0',
        [`x-ratelimit-reset-${limit}`]: `${seconds}s`,
      },
    )
  },
  /** 429 for a single request bigger than the whole tokens-per-minute limit. */
  requestTooLarge: (model = 'gpt-4o-mini'): MockResponse =>
    error(429, {
      message: `Request too large for ${model} in organization org-mock on tokens per min (TPM): Limit 30000, Requested 45210. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.`,
      type: 'tokens',
      param: null,
      code: 'rate_limit_exceeded',
    }),
  /** 500 `server_error`. */
  serverError: (): MockResponse =>
    error(500, {
      message:
        'The server had an error while processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if the error persists.',
      type: 'server_error',
      param: null,
      code: null,
    }),
  /** 503: the engine is overloaded. */
  overloaded: (): MockResponse =>
    error(503, {
      message: 'The engine is currently overloaded, please try again later',
      type: 'server_error',
      param: null,
      code: null,
    }),
  /** 400 `context_length_exceeded`. */
  contextLength: (options: { limit?: number; requested?: number } = {}): MockResponse => {
    const { limit = 128000, requested = 130412 } = options
    return error(400, {
      message: `This model's maximum context length is ${limit} tokens. However, your messages resulted in ${requested} tokens. Please reduce the length of the messages.`,
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    })
  },
  /** 404 `model_not_found`. */
  modelNotFound: (model = 'gpt-9'): MockResponse =>
    error(404, {
      message: `The model \`${model}\` does not exist or you do not have access to it.`,
      type: 'invalid_request_error',
      param: null,
      code: 'model_not_found',
    }),
  /** 401 `no_organization`. */
  noOrganization: (): MockResponse =>
    error(401, {
      message:
        'You must be a member of an organization to use the API. Please contact us through our help center at help.openai.com.',
      type: 'invalid_request_error',
      param: null,
      code: 'no_organization',
    }),
  /** 401 `mismatched_project`: the `OpenAI-Project` header names a project the key does not belong to. */
  mismatchedProject: (): MockResponse =>
    error(401, {
      message: 'OpenAI-Project header should match project for API key',
      type: 'invalid_request_error',
      param: null,
      code: 'mismatched_project',
    }),
  /** 401 `mismatched_organization`. */
  mismatchedOrganization: (): MockResponse =>
    error(401, {
      message: 'OpenAI-Organization header should match organization for API key',
      type: 'invalid_request_error',
      param: null,
      code: 'mismatched_organization',
    }),
  /** 401: the caller's IP is not on the project's allowlist. */
  ipNotAllowed: (): MockResponse =>
    error(401, {
      message:
        'You are not authorized to access this resource from your IP address. Update your IP allowlist at https://platform.openai.com/settings/organization/security/ip-allowlist.',
      type: 'invalid_request_error',
      param: null,
      code: 'ip_not_authorized',
    }),
  /**
   * 401 for a key (a restricted key, or a role) without a scope one endpoint needs, worded as OpenAI
   * words it. The key still works for every endpoint whose scopes it has.
   */
  missingScopes: (scopes: readonly string[] = ['api.model.images.request']): MockResponse =>
    error(401, {
      message: `You have insufficient permissions for this operation. Missing scopes: ${scopes.join(', ')}. Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes.`,
      type: 'invalid_request_error',
      param: null,
      code: null,
    }),
  /** 401 `account_deactivated`: the account behind the key is deactivated, so no call can succeed. */
  accountDeactivated: (): MockResponse =>
    error(401, {
      message:
        'This key is associated with a deactivated account. If you feel this is an error, contact us through our help center at help.openai.com.',
      type: 'invalid_request_error',
      param: null,
      code: 'account_deactivated',
    }),
  /** 403 `unsupported_country_region_territory`. */
  regionUnsupported: (): MockResponse =>
    error(403, {
      message: 'Country, region, or territory not supported',
      type: 'request_forbidden',
      param: null,
      code: 'unsupported_country_region_territory',
    }),
  /** 200 stream that sends `afterChunks` content chunks, then an error event, then ends. */
  midStreamError: (options: { afterChunks?: number } = {}): MockResponse => ({
    stream: {
      errorAfterChunks: options.afterChunks ?? 2,
      error: {
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        param: null,
        code: 'server_error',
      },
    },
  }),
  /** 200 stream that drops the connection after `afterChunks` chunks. */
  disconnect: (options: { afterChunks?: number } = {}): MockResponse => ({
    stream: { disconnectAfterChunks: options.afterChunks ?? 2 },
  }),
  /** A normal answer without usage (no usage chunk, no `usage` field). */
  missingUsage: (): MockResponse => ({ omitUsage: true }),
})
