export type { ErrorCodeInfo, KeyguardErrorCode } from './errors/codes'
export { errorCodeTable, keyguardErrorCodes } from './errors/codes'
export type { KeyguardErrorOptions, KeyguardProblem, UpstreamErrorInfo } from './errors/keyguard-error'
export { isKeyguardError, KeyguardError } from './errors/keyguard-error'
export type { ProblemJson } from './errors/problem-json'
export { toProblemJson } from './errors/problem-json'
export type { AutoRecharger, AutoRechargerOptions } from './limits/auto-recharger'
export { autoRecharger } from './limits/auto-recharger'
export { chargesFor } from './limits/charges-for'
export type { ConcurrencyLimitOptions } from './limits/concurrency-limit'
export { concurrencyLimit } from './limits/concurrency-limit'
export type { CreditsOptions } from './limits/credits'
export { credits } from './limits/credits'
export { denialToError } from './limits/denial-to-error'
export type { LimitEvent } from './limits/limit-event'
export type { LimitPolicy, RequestScope } from './limits/limit-policy'
export type { MemoryStoreOptions } from './limits/memory-store'
export { memoryStore } from './limits/memory-store'
export type { PeriodOptions } from './limits/period-of'
export { periodOf } from './limits/period-of'
export type { RequestLimitOptions } from './limits/request-limit'
export { requestLimit } from './limits/request-limit'
export type { SpendLimitOptions } from './limits/spend-limit'
export { spendLimit } from './limits/spend-limit'
export type {
  AdjustInput,
  Charge,
  ChargeState,
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
