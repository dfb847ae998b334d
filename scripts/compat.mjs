// The compatibility matrix, tried as a new user would: every project under compat/ is copied into a
// scratch directory, its `"packed"` @keyguard/* dependencies pointed at freshly packed tarballs, its
// other dependencies (pinned exact) installed with npm, and its `npm test` run on each Node given.
//
//   node scripts/compat.mjs                          # every project, on this Node
//   node scripts/compat.mjs --node <bin dir> …       # and again on each other Node (see node-bin.mjs)
//   node scripts/compat.mjs jest-cjs openai-v4       # only these projects
//
// A project whose `engines.node` rules a Node out (openai 7 needs Node 22) is skipped on that Node,
// and says so. Needs the packages built (`pnpm build`) and the npm registry; nothing else.
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { packPackages } from './pack-packages.mjs'

const root = process.cwd()
const args = process.argv.slice(2)
const nodeBins = [path.dirname(process.execPath)]
const only = []
for (let index = 0; index < args.length; index++) {
  if (args[index] === '--node') nodeBins.push(path.resolve(args[++index]))
  else only.push(args[index])
}

const source = path.join(root, 'compat')
const projects = readdirSync(source).filter(
  (name) => existsSync(path.join(source, name, 'package.json')) && (only.length === 0 || only.includes(name)),
)
const unknown = only.filter((name) => !projects.includes(name))
if (unknown.length) throw new Error(`no compat project named ${unknown.join(', ')}`)

const work = mkdtempSync(path.join(tmpdir(), 'keyguard-compat-'))
const { tarballOf } = packPackages(root, work)
cpSync(source, path.join(work, 'compat'), {
  recursive: true,
  filter: (file) => !/[\\/](node_modules|package-lock\.json)$/.test(file),
})

const versionOf = (bin) => execFileSync(path.join(bin, 'node'), ['--version'], { encoding: 'utf8' }).trim()
const major = (version) => Number(version.replace(/^v/, '').split('.')[0])
// Only the form compat projects use: `>=N`.
const allows = (engines, version) => {
  const floor = /^>=\s*(\d+)/.exec(engines ?? '')
  return !floor || major(version) >= Number(floor[1])
}
const lastLines = (text, count) => text.trim().split('\n').slice(-count).join('\n')

const results = []
for (const name of projects) {
  const dir = path.join(work, 'compat', name)
  const json = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'))
  const packed = Object.keys(json.dependencies).filter((dep) => json.dependencies[dep] === 'packed')
  // Every @keyguard package depends on core: without its tarball npm would look core up in the registry.
  for (const dep of new Set([...packed, '@keyguard/core'])) json.dependencies[dep] = `file:${tarballOf(dep)}`
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(json, null, 2))
  const install = spawnSync(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
    { cwd: dir, encoding: 'utf8' },
  )
  if (install.status !== 0) {
    results.push(`FAIL  ${name}: npm install\n${lastLines(install.stdout + install.stderr, 20)}`)
    continue
  }
  for (const bin of nodeBins) {
    const version = versionOf(bin)
    const label = `${name} on node ${version}`
    if (!allows(json.engines?.node, version)) {
      results.push(`skip  ${label}: engines.node ${json.engines.node}`)
      continue
    }
    const test = spawnSync('npm', ['test', '--silent'], {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${bin}${path.delimiter}${process.env.PATH}`,
        KEYGUARD_COMPAT_NODE: version,
      },
    })
    const output = test.stdout + test.stderr
    results.push(
      test.status === 0
        ? `ok    ${label}: ${lastLines(
            output
              .split('\n')
              .filter((line) => /^ok |Tests:/.test(line.trim()))
              .join('\n') || 'passed',
            2,
          )}`
        : `FAIL  ${label}\n${lastLines(output, 40)}`,
    )
  }
}

console.log(results.join('\n'))
const failed = results.filter((line) => line.startsWith('FAIL')).length
const passed = results.filter((line) => line.startsWith('ok')).length
console.log(`compat: ${passed} passed, ${failed} failed, ${results.length - passed - failed} skipped`)
if (failed) process.exit(1)
rmSync(work, { recursive: true, force: true })
