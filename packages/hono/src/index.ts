export type { KeyguardErrorHandlerOptions } from './error-handler'
export { keyguardErrorHandler } from './error-handler'
