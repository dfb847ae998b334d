import { Command, CommanderError } from 'commander'
import picocolors from 'picocolors'
import { type CliContext, createContext } from './context'
import { doctorCommand } from './doctor'
import { estimateCommand } from './estimate'
import { pricesCommand } from './prices'

/** Where the CLI reads and writes; injected so tests can run it in-process and the bin uses the real process. */
export interface CliIO {
  stdout: (text: string) => void
  stderr: (text: string) => void
  /** Use ANSI colors (the bin passes true only for a TTY without `NO_COLOR`). @default false */
  color?: boolean
  /** Show a spinner on stderr while live checks run (the bin passes true when stderr is a TTY). @default false */
  interactive?: boolean
  /** Read all of standard input; resolves `undefined` when stdin is a terminal (nothing piped). */
  readStdin?: () => Promise<string | undefined>
  /** The environment keys are loaded from. @default process.env */
  env?: Readonly<Record<string, string | undefined>>
  /** The directory relative paths and `.env` resolve against. @default process.cwd() */
  cwd?: string
}

/** Exit codes: 0 all well, 1 a problem was found, 2 a usage error. */
export type ExitCode = 0 | 1 | 2

type CommandFactory = (context: CliContext) => Command

/** Build the `keyguard` program around a context that collects the exit code. */
function createProgram(context: CliContext, version: string, commands: readonly CommandFactory[]): Command {
  const program = new Command('keyguard')
    .description('Check, price and estimate your OpenAI usage before it costs you.')
    .version(version, '-v, --version')
    .option('--no-color', 'print without colors (also: NO_COLOR=1)')
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run keyguard --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: context.stdout,
      writeErr: context.stderr,
      outputError: (text, write) => write(context.colors.red(text)),
    })
    .hook('preAction', (command) => {
      if (command.opts().color === false) context.setColor(false)
    })
    .addHelpText(
      'after',
      `
Examples:
  $ keyguard doctor                     check every key in env, .env and *_FILE, live
  $ keyguard estimate request.json      what a request costs before you send it
  $ keyguard prices --model 'gpt-5*'    the bundled price table, USD per 1M tokens

Exit codes: 0 all well, 1 a problem was found, 2 a usage error.`,
    )
  for (const factory of commands) {
    program.addCommand(
      factory(context)
        .showSuggestionAfterError(true)
        .exitOverride()
        .configureOutput({
          writeOut: context.stdout,
          writeErr: context.stderr,
          outputError: (text, write) => write(context.colors.red(text)),
        }),
    )
  }
  return program
}

/** The commands the bin ships, in help order. */
const defaultCommands: CommandFactory[] = [doctorCommand, estimateCommand, pricesCommand]

/**
 * Run the `keyguard` CLI with `argv` (without `node` and the script name) and resolve its exit code.
 *
 * @example
 * ```ts
 * const code = await runCli(['prices', '--json'], {
 *   stdout: (text) => process.stdout.write(text),
 *   stderr: (text) => process.stderr.write(text),
 * }, '1.0.0')
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIO, version: string): Promise<ExitCode> {
  const context = createContext(io, picocolors.createColors)
  const program = createProgram(context, version, defaultCommands)
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return context.exitCode
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0
      // `keyguard` alone prints help on stderr with exit code 1: a usage error.
      if (error.code === 'commander.help') return error.exitCode === 0 ? 0 : 2
      return 2
    }
    throw error
  }
}
