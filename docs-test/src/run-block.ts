import { execFile } from 'node:child_process'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

/** How a runnable block ended. */
export interface BlockRun {
  exitCode: number
  stdout: string
  stderr: string
}

const mockUpstream = fileURLToPath(new URL('./mock-upstream.ts', import.meta.url))

// Types are stripped here, in the test's process, and the block runs as plain JavaScript: a type-only
// transform, as tsx does, but without a loader in the child. tsx hooked every module the block
// loaded (openai, the workspace packages' builds) and doubled each run's CPU (~3.4 s → ~1.7 s).
// Same options as tsconfig.blocks.json where they change the output: imports stay as written.
const compilerOptions: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  verbatimModuleSyntax: true,
  esModuleInterop: true,
  // A runnable tsx block gets React.createElement, as tsx gave it.
  jsx: ts.JsxEmit.React,
}

/** Writes `file`'s TypeScript as JavaScript beside it (`x.ts` → `x.mjs`) and returns the new path. */
function stripTypes(file: string, into: string): string {
  const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions, fileName: file })
  // Written aside and renamed over: blocks run in parallel and share one mock-upstream.mjs, and a
  // process that read it while another truncated it ran with no mock (OPENAI_API_KEY is not set).
  const aside = `${into}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  writeFileSync(aside, outputText)
  renameSync(aside, into)
  return into
}

/**
 * Runs a written block (`writeBlocks`) in its own Node process, types stripped, with
 * `mock-upstream.ts` loaded first: OPENAI_API_KEY is set and api.openai.com is answered by
 * `createMockOpenAI`.
 *
 * @example
 * const { exitCode, stdout } = await runBlock('/repo/docs-test/blocks/README.md-L44.ts')
 */
export function runBlock(
  path: string,
  { timeoutMs = 60_000 }: { timeoutMs?: number } = {},
): Promise<BlockRun> {
  // Beside the block, so both resolve the workspace packages from docs-test's node_modules.
  const mock = stripTypes(mockUpstream, join(dirname(path), 'mock-upstream.mjs'))
  const block = stripTypes(path, path.replace(/\.[cm]?tsx?$/, '.mjs'))
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', mock, block],
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
