import type { KeyguardErrorCode } from './codes'

/** What a rule looks at. Every field given must match; a string matches exactly, a RegExp by test. */
export interface OpenAIErrorMatch {
  /** OpenAI's `error.code`, such as `insufficient_quota`. */
  code?: string | RegExp
  /** OpenAI's `error.type`, such as `tokens` or `server_error`. */
  type?: string | RegExp
  /** The HTTP status: one, or a range `[from, to]` inclusive. */
  status?: number | readonly [number, number]
  /** OpenAI's `error.message`. */
  message?: RegExp
}

/** One row of the classification table: what OpenAI said, and what keyguard makes of it. */
export interface OpenAIErrorRule {
  match: OpenAIErrorMatch
  code: KeyguardErrorCode
  /** What the operator should fix, and where. */
  hint: string
}

// Plain strings, not templates: a bundler keeps a module-level template with substitutions even when
// nothing uses it.
const invalidKey = `OpenAI rejected the API key: check that OPENAI_API_KEY holds a current key (create one at https://platform.openai.com/api-keys) and that it was not revoked.`
const noQuota = `OpenAI reports no quota: set up billing or buy credits at https://platform.openai.com/settings/organization/billing/overview; this is not a rate limit and retrying will not help.`
const spendLimit = `The organization or project reached the spend limit set in OpenAI: raise it at https://platform.openai.com/settings/organization/limits or wait for the period to reset.`
const rateLimited = `OpenAI's own rate limit for this key was reached: slow down, or ask for higher limits at https://platform.openai.com/settings/organization/limits.`
const tooLargeForTpm = `One request needs more tokens than the key's whole tokens-per-minute limit: shorten the prompt or max output tokens, or raise the limit at https://platform.openai.com/settings/organization/limits.`
const mismatched =
  'The OpenAI-Organization or OpenAI-Project header does not match the key: fix OPENAI_ORG_ID / OPENAI_PROJECT_ID or use a key of that project.'
const missingScopes = /insufficient permissions|missing scopes/i
const missingScope = `The key (or its owner's role) lacks a scope this endpoint needs; OpenAI's message names it (\`Missing scopes: api.model.images.request\`). Other endpoints still work with it. Grant the scope to the restricted key at https://platform.openai.com/api-keys (Permissions), or call the endpoint with a key that has it; an Administration API endpoint needs an admin key.`
const permissionDenied = `OpenAI refused this call for the key (403): its project or role has no access to this endpoint or model. Other calls still work with it; grant access at https://platform.openai.com/api-keys or in the project's settings.`
const badRequest = 'OpenAI rejected the request as invalid: the message names the parameter to fix.'
const serverError =
  'OpenAI had a server error; retry with backoff and check https://status.openai.com if it persists.'
const overloaded =
  'OpenAI is overloaded; retry with backoff and check https://status.openai.com if it persists.'

/**
 * How keyguard classifies OpenAI's errors: an ordered table, first match wins. Rows are ordered by
 * what they key on: `error.code` first, then `type`, then status (with message refinements ahead of
 * the plain status row), then message patterns alone (stream error events carry no status).
 * Update it here when OpenAI adds a code; unknown codes fall through to type and status.
 *
 * @example
 * ```ts
 * openaiErrorRules.find((rule) => rule.match.code === 'insufficient_quota')?.code // 'quota.insufficient'
 * ```
 */
export const openaiErrorRules: readonly OpenAIErrorRule[] = /* @__PURE__ */ Object.freeze([
  // by error.code
  { match: { code: 'invalid_api_key' }, code: 'auth.invalid_key', hint: invalidKey },
  {
    match: { code: 'account_deactivated' },
    code: 'auth.invalid_key',
    hint: 'The OpenAI account behind this key is deactivated: contact OpenAI support or use another key.',
  },
  {
    match: { code: /^(no_organization|organization_membership_required)$/ },
    code: 'auth.no_organization',
    hint: 'The key belongs to an account without an organization: join or create one at https://platform.openai.com/settings/organization/general.',
  },
  {
    match: { code: /^(mismatched|invalid)_(organization|project)$/ },
    code: 'auth.mismatched_project',
    hint: mismatched,
  },
  {
    match: { code: /^ip_not_(authorized|allowed)$/ },
    code: 'auth.ip_not_allowed',
    hint: "This server's IP is not on the project's allowlist: add it at https://platform.openai.com/settings/organization/security/ip-allowlist.",
  },
  {
    match: { code: 'unsupported_country_region_territory' },
    code: 'auth.region_unsupported',
    hint: 'OpenAI does not serve the country or region this server calls from: deploy it in a supported region (https://platform.openai.com/docs/supported-countries).',
  },
  { match: { code: 'insufficient_quota' }, code: 'quota.insufficient', hint: noQuota },
  {
    match: { code: /^(billing_not_active|credit_balance_exhausted)$/ },
    code: 'quota.insufficient',
    hint: noQuota,
  },
  {
    match: { code: /(_spend_limit_exceeded|_usage_limit_exceeded|^billing_hard_limit_reached)$/ },
    code: 'quota.spend_limit',
    hint: spendLimit,
  },
  {
    match: { code: 'rate_limit_exceeded', message: /^Request too large/i },
    code: 'request.too_large_for_tpm',
    hint: tooLargeForTpm,
  },
  { match: { code: 'rate_limit_exceeded' }, code: 'rate.upstream', hint: rateLimited },
  {
    match: { code: /^(context_length_exceeded|string_above_max_length)$/ },
    code: 'request.context_length',
    hint: "The prompt plus max output tokens exceed the model's context window: trim the conversation or lower max tokens.",
  },
  {
    match: { code: /^(model_not_found|model_not_available)$/ },
    code: 'model.not_found',
    hint: "The model does not exist or this project has no access to it: check the model id and the project's model permissions.",
  },
  {
    match: { code: /^(content_policy_violation|content_filter|invalid_prompt)$/ },
    code: 'request.content_policy',
    hint: "OpenAI's safety system rejected the request; the end user should rephrase.",
  },
  { match: { code: /^(server_error|internal_error)$/ }, code: 'upstream.server_error', hint: serverError },
  {
    match: { code: /overloaded|^(engine_unavailable|slow_down)$/ },
    code: 'upstream.overloaded',
    hint: overloaded,
  },
  {
    match: { code: /^(permission_denied|insufficient_permissions)$/ },
    code: 'auth.permission_denied',
    hint: permissionDenied,
  },
  {
    match: { code: /^(invalid_|missing_|unknown_|unsupported_|integer_|decimal_|array_|empty_)/ },
    code: 'request.invalid',
    hint: badRequest,
  },
  // by error.type
  { match: { type: 'insufficient_quota' }, code: 'quota.insufficient', hint: noQuota },
  {
    match: { type: /^(tokens|requests)(_usage_based)?$/, message: /^Request too large/i },
    code: 'request.too_large_for_tpm',
    hint: tooLargeForTpm,
  },
  {
    match: { type: /^(tokens|requests)(_usage_based)?$|^rate_limit_error$/ },
    code: 'rate.upstream',
    hint: rateLimited,
  },
  {
    match: { type: 'authentication_error', message: missingScopes },
    code: 'auth.permission_denied',
    hint: missingScope,
  },
  { match: { type: 'authentication_error' }, code: 'auth.invalid_key', hint: invalidKey },
  {
    match: { type: /^(server_error|api_error)$/, message: /overloaded|slow down/i },
    code: 'upstream.overloaded',
    hint: overloaded,
  },
  { match: { type: /^(server_error|api_error)$/ }, code: 'upstream.server_error', hint: serverError },
  // by status, refined by message
  {
    match: { status: 401, message: /\bIP\b|allowlist/ },
    code: 'auth.ip_not_allowed',
    hint: "This server's IP is not on the project's allowlist: add it at https://platform.openai.com/settings/organization/security/ip-allowlist.",
  },
  {
    match: { status: 401, message: /OpenAI-(Organization|Project) header/i },
    code: 'auth.mismatched_project',
    hint: mismatched,
  },
  {
    match: { status: [401, 403], message: missingScopes },
    code: 'auth.permission_denied',
    hint: missingScope,
  },
  {
    match: { status: 403, message: /country|region|territory/i },
    code: 'auth.region_unsupported',
    hint: 'OpenAI does not serve the country or region this server calls from: deploy it in a supported region.',
  },
  {
    match: { status: 429, message: /exceeded your current quota|billing/i },
    code: 'quota.insufficient',
    hint: noQuota,
  },
  {
    match: { status: 429, message: /^Request too large/i },
    code: 'request.too_large_for_tpm',
    hint: tooLargeForTpm,
  },
  {
    match: { status: 404, message: /^Invalid URL/i },
    code: 'request.invalid',
    hint: 'The request went to an endpoint OpenAI does not have: check the base URL and path.',
  },
  {
    match: { status: [500, 599], message: /overloaded|slow down/i },
    code: 'upstream.overloaded',
    hint: overloaded,
  },
  // by status
  { match: { status: 401 }, code: 'auth.invalid_key', hint: invalidKey },
  // 403 is authenticated but not allowed: this call, not the key (a key OpenAI rejects is a 401)
  { match: { status: 403 }, code: 'auth.permission_denied', hint: permissionDenied },
  {
    match: { status: 404 },
    code: 'model.not_found',
    hint: "OpenAI answered 404: check the model id, the base URL and the project's model access.",
  },
  { match: { status: 408 }, code: 'upstream.timeout', hint: 'OpenAI timed out reading the request; retry.' },
  { match: { status: 429 }, code: 'rate.upstream', hint: rateLimited },
  { match: { status: 503 }, code: 'upstream.overloaded', hint: overloaded },
  {
    match: { status: [504, 504] },
    code: 'upstream.timeout',
    hint: 'A gateway in front of OpenAI timed out; retry.',
  },
  {
    match: { status: 524 },
    code: 'upstream.timeout',
    hint: 'A gateway in front of OpenAI timed out; retry.',
  },
  { match: { status: [500, 599] }, code: 'upstream.server_error', hint: serverError },
  { match: { status: [400, 499] }, code: 'request.invalid', hint: badRequest },
  // by message alone (stream error events without a status)
  { match: { message: /Incorrect API key/i }, code: 'auth.invalid_key', hint: invalidKey },
  { match: { message: missingScopes }, code: 'auth.permission_denied', hint: missingScope },
  { match: { message: /exceeded your current quota/i }, code: 'quota.insufficient', hint: noQuota },
  { match: { message: /^Request too large/i }, code: 'request.too_large_for_tpm', hint: tooLargeForTpm },
  { match: { message: /Rate limit reached/i }, code: 'rate.upstream', hint: rateLimited },
  {
    match: { message: /maximum context length/i },
    code: 'request.context_length',
    hint: "The prompt plus max output tokens exceed the model's context window.",
  },
  { match: { message: /overloaded|slow down/i }, code: 'upstream.overloaded', hint: overloaded },
] satisfies OpenAIErrorRule[])
