import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** How a runnable block ended. */
export interface BlockRun {
  exitCode: number
  stdout: string
  stderr: string
}

const mockUpstream = fileURLToPath(new URL('./mock-upstream.ts', import.meta.url))

/**
 * Runs a written block (`writeBlocks`) in its own Node process through tsx, with `mock-upstream.ts`
 * loaded first: OPENAI_API_KEY is set and api.openai.com is answered by `createMockOpenAI`.
 *
 * @example
 * const { exitCode, stdout } = await runBlock('/repo/docs-test/blocks/README.md-L44.ts')
 */
export function runBlock(
  path: string,
  { timeoutMs = 60_000 }: { timeoutMs?: number } = {},
): Promise<BlockRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--import', mockUpstream, path],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        timeout: timeoutMs,
        env: { ...process.env, OPENAI_API_KEY: '', NO_COLOR: '1' },
      },
      (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({
          exitCode,
          stdout,
          stderr: error?.killed ? `${stderr}\n(killed after ${timeoutMs} ms)` : stderr,
        })
      },
    )
  })
}
