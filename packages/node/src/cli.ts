import { createRequire } from 'node:module'
import { runCli } from './cli/program'

const { version } = createRequire(import.meta.url)('../package.json') as { version: string }

process.exitCode = await runCli(
  process.argv.slice(2),
  { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) },
  version,
)
