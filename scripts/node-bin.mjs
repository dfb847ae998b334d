// Prints the bin directory of a Node release, installed once from npm's `node-linux-<arch>` package
// into `.cache/node/<version>` (gitignored), so CI can run the suite on more than one Node:
//   PATH="$(node scripts/node-bin.mjs 24.22.3):$PATH" pnpm test
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'

const version = process.argv[2]
if (!/^\d+\.\d+\.\d+$/.test(version ?? '')) {
  console.error('usage: node scripts/node-bin.mjs <exact version, e.g. 24.22.3>')
  process.exit(2)
}
const arch = { x64: 'x64', arm64: 'arm64' }[process.arch]
if (process.platform !== 'linux' || !arch) {
  console.error(`node-bin: no node-linux package for ${process.platform}/${process.arch}`)
  process.exit(1)
}
const pkg = `node-linux-${arch}`
const prefix = path.resolve('.cache/node', version)
const bin = path.join(prefix, 'node_modules', pkg, 'bin')
if (!existsSync(path.join(bin, 'node'))) {
  mkdirSync(prefix, { recursive: true })
  execFileSync(
    'npm',
    [
      'install',
      '--prefix',
      prefix,
      '--no-save',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      `${pkg}@${version}`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  )
}
const reported = execFileSync(path.join(bin, 'node'), ['--version'], { encoding: 'utf8' }).trim()
if (reported !== `v${version}`) {
  console.error(`node-bin: ${bin}/node reports ${reported}, expected v${version}`)
  process.exit(1)
}
console.log(bin)
