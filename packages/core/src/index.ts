export type { ErrorCodeInfo, KeyguardErrorCode } from './errors/codes'
export { errorCodeTable, keyguardErrorCodes } from './errors/codes'
export type { KeyguardErrorOptions, KeyguardProblem, UpstreamErrorInfo } from './errors/keyguard-error'
export { isKeyguardError, KeyguardError } from './errors/keyguard-error'
export type { ProblemJson } from './errors/problem-json'
export { toProblemJson } from './errors/problem-json'
export type { MemoryStoreOptions } from './limits/memory-store'
export { memoryStore } from './limits/memory-store'
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
