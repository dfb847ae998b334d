export type { ErrorCodeInfo, KeyguardErrorCode } from './errors/codes'
export { errorCodeTable, keyguardErrorCodes } from './errors/codes'
export type { KeyguardErrorOptions, KeyguardProblem, UpstreamErrorInfo } from './errors/keyguard-error'
export { isKeyguardError, KeyguardError } from './errors/keyguard-error'
export type { ProblemJson } from './errors/problem-json'
export { toProblemJson } from './errors/problem-json'
export type { KeyRing, KeyRingEntry, KeyRingKey, KeyRingOptions } from './keys/create-key-ring'
export { createKeyRing } from './keys/create-key-ring'
export type { ApiKeyKind } from './keys/key-fingerprint'
export { apiKeyKind, keyFingerprint, keyId } from './keys/key-fingerprint'
export type { ApiKey, ParseApiKeyOptions } from './keys/parse-api-key'
export { parseApiKey } from './keys/parse-api-key'
export { redactedMark, scrubSecrets } from './keys/scrub-secrets'
export { Secret } from './keys/secret'
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
