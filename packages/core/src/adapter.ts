// `@keyguard/core/adapter`: the pieces an adapter or a store is built from. An app needs none of them:
// it uses `@keyguard/core` and an adapter package. Each name here is used by @keyguard/express,
// @keyguard/hono or @keyguard/redis, and is documented in the core README (_For adapter and store authors_).
export type { ParseOptionsExtras } from './config/parse-options'
export { parseOptions } from './config/parse-options'
export type { ErrorResponseOptions } from './errors/error-response'
export { errorResponse, outsideRequestResponse } from './errors/error-response'
export type { CountCacheOptions } from './estimate/count-tokens'
export { cachedCounter } from './estimate/count-tokens'
export { takeBufferedBody } from './guard/buffered-response'
export { keyWideErrorCodes } from './guard/key-circuits'
export type { GuardedRequest, ResponseHeaderOptions } from './http/guard-request'
export { guardedRequestOf, guardRequest, movedResponseHeaderOptions, toKeyguard } from './http/guard-request'
export { keyguardErrorBehind } from './http/keyguard-error-behind'
export type { AutoRecharger, AutoRechargerOptions } from './limits/auto-recharger'
export { autoRecharger } from './limits/auto-recharger'
export type { ChargesForOptions } from './limits/charges-for'
export { chargesFor } from './limits/charges-for'
export { concurrencyRetryHintMs, denialToError } from './limits/denial-to-error'
export type { PeriodOptions } from './limits/period-of'
export { periodOf, periodSpanOf } from './limits/period-of'
export type {
  CircuitBreaker,
  CircuitBreakerOptions,
  CircuitCall,
  CircuitState,
} from './resilience/circuit-breaker'
export { circuitBreaker } from './resilience/circuit-breaker'
export { redactedMark } from './secrets/scrub-secrets'
