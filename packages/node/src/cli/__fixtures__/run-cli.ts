import { runCli } from '../program'
import type { BinResult, RunBinOptions } from './run-bin'

/**
 * Run the CLI in this process, as the bin would with the same arguments, environment, directory and
 * stdin: no process to start, so a busy machine does not slow a test past its timeout.
 */
export async function runInProcess(args: readonly string[], options: RunBinOptions = {}): Promise<BinResult> {
  const { env = {}, cwd, input = '' } = options
  let stdout = ''
  let stderr = ''
  const code = await runCli(
    args,
    {
      stdout: (text) => {
        stdout += text
      },
      stderr: (text) => {
        stderr += text
      },
      env,
      ...(cwd === undefined ? {} : { cwd }),
      readStdin: async () => input,
    },
    '0.0.0-test',
  )
  return { code, stdout, stderr }
}
