export type { CliIO, ExitCode } from './cli/program'
export { runCli } from './cli/program'
