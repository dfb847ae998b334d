/**
 * Where keyguard reports what it cannot throw: a listener that threw, a settle that failed after the
 * response was sent. `console` fits; so do pino and winston. Messages never contain a key.
 */
export interface Logger {
  warn(message: string, details?: Record<string, unknown>): void
  error(message: string, details?: Record<string, unknown>): void
}

/**
 * The default logger: warnings and errors to the console's stderr streams, nothing to stdout.
 *
 * @example
 * ```ts
 * const guard = createKeyguard({ key, logger: consoleLogger }) // the same as leaving `logger` out
 * ```
 */
export const consoleLogger: Logger = {
  // biome-ignore lint/suspicious/noConsole: the default logger, used only when none is injected; stderr, never stdout
  warn: (message, details) => console.warn(message, details ?? ''),
  // biome-ignore lint/suspicious/noConsole: the default logger, used only when none is injected; stderr, never stdout
  error: (message, details) => console.error(message, details ?? ''),
}
