export type { CliIO, ExitCode } from './cli/program'
export { runCli } from './cli/program'
export type { LoadedKeys, LoadedValue, LoadKeysOptions } from './load-keys'
export { loadKeys } from './load-keys'
