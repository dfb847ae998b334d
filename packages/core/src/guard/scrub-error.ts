import { isKeyguardError, KeyguardError } from '../errors/keyguard-error'
import { scrubSecrets } from '../secrets/scrub-secrets'
import type { ResolvedOptions } from './keyguard-options'

/** An error thrown while estimating, as a `KeyguardError` whose message holds no secret. */
export function asKeyguardError(error: unknown, options: ResolvedOptions): KeyguardError {
  if (isKeyguardError(error)) return error
  return new KeyguardError({
    code: 'request.invalid',
    message: `keyguard could not estimate the request: ${scrub(error, options)}`,
    cause: error,
  })
}

/** An error's message with the guard's keys and anything shaped like a key removed. */
export function scrub(error: unknown, options: ResolvedOptions): string {
  return scrubSecrets(error instanceof Error ? error.message : String(error), options.secrets)
}
