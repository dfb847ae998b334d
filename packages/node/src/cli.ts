import { createRequire } from 'node:module'
import { text } from 'node:stream/consumers'
import picocolors from 'picocolors'
import { runCli } from './cli/program'

const { version } = createRequire(import.meta.url)('../package.json') as { version: string }

process.exitCode = await runCli(
  process.argv.slice(2),
  {
    stdout: (chunk) => process.stdout.write(chunk),
    stderr: (chunk) => process.stderr.write(chunk),
    // picocolors already honours NO_COLOR, FORCE_COLOR and --no-color; color only when stdout is a TTY.
    color: picocolors.isColorSupported && (process.stdout.isTTY === true || 'FORCE_COLOR' in process.env),
    interactive: process.stderr.isTTY === true && !('CI' in process.env),
    readStdin: async () => (process.stdin.isTTY ? undefined : text(process.stdin)),
  },
  version,
)
