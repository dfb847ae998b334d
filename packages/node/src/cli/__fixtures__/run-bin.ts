import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The built bin: these tests run what `npx keyguard` runs (build first: `pnpm --filter @keyguard/node build`). */
const binPath = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url))

export interface BinResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface RunBinOptions {
  /** The whole environment of the child; nothing is inherited but PATH. */
  env?: Record<string, string>
  cwd?: string
  /** Written to stdin, which is then closed. @default '' */
  input?: string
}

/** Spawn the built `keyguard` bin and collect its exit code and output. */
export function runBin(args: readonly string[], options: RunBinOptions = {}): Promise<BinResult> {
  const { env = {}, cwd, input = '' } = options
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(input)
  })
}
