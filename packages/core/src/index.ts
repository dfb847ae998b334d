export type { OptionKeys } from './config/check-options'
export { checkOptions } from './config/check-options'
export type {
  APIErrorLike,
  ClassifyOptions,
  ErrorInput,
  ParsedErrorInput,
} from './errors/classify-openai-error'
export { classifyOpenAIError } from './errors/classify-openai-error'
export type { ErrorCodeInfo, KeyguardErrorCode } from './errors/codes'
export { errorCodeTable, keyguardErrorCodes } from './errors/codes'
export type { HeadersLike } from './errors/headers-like'
export type { KeyguardErrorOptions, KeyguardProblem, UpstreamErrorInfo } from './errors/keyguard-error'
export { isKeyguardError, KeyguardError, maxAutoRetryWaitMs } from './errors/keyguard-error'
export type { OpenAIErrorMatch, OpenAIErrorRule } from './errors/openai-error-rules'
export { openaiErrorRules } from './errors/openai-error-rules'
export type { UpstreamRateLimits } from './errors/parse-rate-limit-headers'
export { parseRateLimitHeaders } from './errors/parse-rate-limit-headers'
export type { ParseRetryAfterOptions } from './errors/parse-retry-after'
export { parseGoDuration, parseRetryAfter } from './errors/parse-retry-after'
export type { ProblemJson } from './errors/problem-json'
export { toProblemJson } from './errors/problem-json'
export type { OpenAIErrorBody } from './errors/to-openai-error-body'
export { toOpenAIErrorBody } from './errors/to-openai-error-body'
export type { Cost, CostOptions } from './estimate/cost-of-usage'
export { costOfUsage } from './estimate/cost-of-usage'
export type { CountFn, TokenCounter } from './estimate/count-tokens'
export {
  byteUpperBoundCounter,
  countTokens,
  gptTokenizerCounter,
  loadTokenizer,
  tokenUpperBound,
} from './estimate/count-tokens'
export type { EndpointPath, EstimateOptions, RequestEstimate } from './estimate/estimate-request'
export { estimateRequest } from './estimate/estimate-request'
export type { Keyguard, KeyguardCredits } from './guard/create-keyguard'
export { createKeyguard } from './guard/create-keyguard'
export type {
  CircuitClosedEvent,
  CircuitOpenEvent,
  ClampedEvent,
  DeniedEvent,
  KeyguardEvent,
  KeyguardEventType,
  KeyguardListener,
  SettleEvent,
  StreamCutEvent,
  UpstreamErrorEvent,
  UpstreamRateLimitsEvent,
} from './guard/keyguard-events'
export type { KeyguardLedger, LedgerCallEntry, LedgerCreditEntry, LedgerEntry } from './guard/keyguard-ledger'
export type { KeyguardOptions } from './guard/keyguard-options'
export type { KeyguardResult } from './guard/keyguard-result'
export { keyguardResult } from './guard/keyguard-result'
export type { RateLimitHeadersOptions, RateLimitHeaderValues } from './guard/rate-limit-headers'
export { rateLimitHeaders } from './guard/rate-limit-headers'
export type { OpenAIProxyHandler, OpenAIProxyOptions } from './http/create-openai-proxy'
export { createOpenAIProxy } from './http/create-openai-proxy'
export type { AllowedEndpoint, ProxyPrice } from './http/proxy-routes'
export type { VirtualKeyScope, VirtualKeys } from './http/virtual-keys'
export { generateVirtualKey, hashVirtualKey, virtualKeys } from './http/virtual-keys'
export type { KeyRing, KeyRingEntry, KeyRingKey, KeyRingOptions } from './keys/create-key-ring'
export { createKeyRing } from './keys/create-key-ring'
export type { ApiKeyKind } from './keys/key-fingerprint'
export { apiKeyKind, keyFingerprint, keyId } from './keys/key-fingerprint'
export type { ApiKey, ParseApiKeyOptions } from './keys/parse-api-key'
export { parseApiKey } from './keys/parse-api-key'
export type { KeyStatus, KeyStatusKind, VerifyApiKeyOptions } from './keys/verify-api-key'
export { verifyApiKey } from './keys/verify-api-key'
export type { ConcurrencyLimitOptions } from './limits/concurrency-limit'
export { concurrencyLimit } from './limits/concurrency-limit'
export type { CreditsOptions } from './limits/credits'
export { credits } from './limits/credits'
export type { LimitEvent } from './limits/limit-event'
export type { LimitPolicy, RequestScope, WhenScopeMissing } from './limits/limit-policy'
export type { MemoryStoreOptions } from './limits/memory-store'
export { memoryStore } from './limits/memory-store'
export type { RequestLimitOptions } from './limits/request-limit'
export { requestLimit } from './limits/request-limit'
export type { BuiltInScopeKind, ScopeOf } from './limits/scope-kinds'
export type { SpendLimitOptions } from './limits/spend-limit'
export { spendLimit } from './limits/spend-limit'
export type {
  AdjustInput,
  Charge,
  ChargeState,
  ClaimInput,
  ConcurrencyRule,
  CreditsRule,
  Denial,
  KeyguardStore,
  LimitKind,
  LimitRule,
  PeekInput,
  PeriodRef,
  ReleaseResult,
  RequestsRule,
  ReserveInput,
  ReserveResult,
  ScopeKey,
  SettleInput,
  SettleResult,
  SpendRule,
  StoreEvent,
  TokensRule,
} from './limits/store'
export type { TokenLimitOptions } from './limits/token-limit'
export { tokenLimit } from './limits/token-limit'
export type { Logger } from './log/logger'
export type {
  ModelKind,
  ModelPriceInput,
  ModelPrices,
  PriceRow,
  PriceRowInput,
  PriceTable,
  PriceTableInput,
  Rates,
  RatesInput,
  TokenizerEncoding,
} from './pricing/define-prices'
export { definePrices } from './pricing/define-prices'
export type { ModelInfo } from './pricing/model-info'
export { modelInfo } from './pricing/model-info'
export { openaiPrices } from './pricing/openai-prices'
export type { BillingMode } from './pricing/rates-for'
export type { Nanos } from './pricing/usd'
export { formatUsd, usd } from './pricing/usd'
export { scrubSecrets } from './secrets/scrub-secrets'
export { Secret } from './secrets/secret'
