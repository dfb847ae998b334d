import { type Secret, scrubSecrets } from '@keyguard/core'
import type { Colors } from 'picocolors/types'
import type { CliIO, ExitCode } from './program'

/**
 * What every command gets: output that is colored only when allowed and scrubbed of every secret the
 * run has seen (and of anything shaped like a key), input, and the exit code it sets.
 */
export interface CliContext {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  readonly colors: Colors
  readonly interactive: boolean
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
  readonly readStdin: () => Promise<string | undefined>
  /** The worst outcome so far; commands raise it to 1 when they find a problem. */
  readonly exitCode: ExitCode
  fail(code?: ExitCode): void
  /** Register secrets to scrub from everything written from now on. */
  addSecrets(secrets: Iterable<Secret | string>): void
  setColor(enabled: boolean): void
}

/** Build the context for one run of the CLI from the injected IO. */
export function createContext(io: CliIO, createColors: (enabled: boolean) => Colors): CliContext {
  let colors = createColors(io.color ?? false)
  let exitCode: ExitCode = 0
  const secrets = new Set<Secret | string>()
  return {
    // Defence in depth: commands never print a key, and this catches one that slips through.
    stdout: (text) => io.stdout(scrubSecrets(text, secrets)),
    stderr: (text) => io.stderr(scrubSecrets(text, secrets)),
    get colors() {
      return colors
    },
    interactive: io.interactive ?? false,
    env: io.env ?? process.env,
    cwd: io.cwd ?? process.cwd(),
    readStdin: io.readStdin ?? (async () => undefined),
    get exitCode() {
      return exitCode
    },
    fail(code = 1) {
      if (code > exitCode) exitCode = code
    },
    addSecrets(values) {
      for (const value of values) secrets.add(value)
    },
    setColor(enabled) {
      colors = createColors(enabled)
    },
  }
}
