import { type LoadedKeys, loadKeys } from './load-keys'

/**
 * The keys loaded at import time by `loadKeys()` with its defaults: the environment, then `.env` in the
 * working directory when present (the environment wins), then `VAR_FILE` secret files.
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
export const keys: LoadedKeys = loadKeys()
