import { Command, CommanderError } from 'commander'

/** Where the CLI writes; injected so tests run it in-process and the bin uses the real streams. */
export interface CliIO {
  stdout: (text: string) => void
  stderr: (text: string) => void
}

/** Exit codes: 0 all well, 1 a problem was found, 2 a usage error. */
export type ExitCode = 0 | 1 | 2

/** Build the `keyguard` program. Commands are registered here as they land. */
export function createProgram(io: CliIO, version: string): Command {
  return new Command('keyguard')
    .description('Check, price and estimate your OpenAI usage before it costs you.')
    .version(version, '-v, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
}

/** Run the CLI with `argv` (without `node` and the script) and return the exit code. */
export async function runCli(argv: readonly string[], io: CliIO, version: string): Promise<ExitCode> {
  const program = createProgram(io, version)
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return 0
  } catch (error) {
    if (error instanceof CommanderError) {
      const informational = ['commander.helpDisplayed', 'commander.version', 'commander.help']
      return informational.includes(error.code) ? 0 : 2
    }
    throw error
  }
}
