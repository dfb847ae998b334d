import { type LoadedKeys, loadKeys } from './load-keys'

/**
 * The keys loaded from the environment (and `.env`, when present) at import time.
 * Importing `@keyguard/node/load` validates everything at boot and throws one aggregated
 * `KeyguardError` if anything is wrong, before the app serves a request.
 *
 * @example
 * ```ts
 * import { keys } from '@keyguard/node/load'
 *
 * const guard = createKeyguard({ key: keys.apiKey })
 * ```
 */
export const keys: LoadedKeys = loadKeys({ envFile: true })
