// What npm users get: pack every package, install the tarballs into a throwaway project with npm,
// and import every entry point four ways: ESM JS, CJS JS, TypeScript node16, TypeScript bundler.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { packPackages } from './pack-packages.mjs'

const root = process.cwd()
const work = mkdtempSync(path.join(tmpdir(), 'keyguard-consumers-'))
const run = (command, args, cwd, env = process.env) =>
  execFileSync(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' })

const { packages, tarballOf } = packPackages(root, work)

// Every subpath a user may import, from each package's exports map (package.json excluded). An entry
// with no `require` condition is ESM only (the conformance suites: vitest cannot be required), so the
// CommonJS checks leave it out.
const entryList = packages.flatMap(({ json }) =>
  Object.entries(json.exports)
    .filter(([subpath]) => subpath !== './package.json')
    .map(([subpath, target]) => ({
      name: subpath === '.' ? json.name : `${json.name}/${subpath.slice(2)}`,
      esmOnly: typeof target === 'object' && !('require' in target),
    })),
)
const entries = entryList.map(({ name }) => name)
const cjsEntries = entryList.filter(({ esmOnly }) => !esmOnly).map(({ name }) => name)

const project = path.join(work, 'project')
mkdirSync(project)
const peers = {
  express: '^5.1.0',
  '@types/express': '^5.0.3',
  hono: '^4.12.0',
  openai: '^7.0.0',
  vitest: '4.1.12',
  // optional peer of @keyguard/testing, imported only by its /conformance entry
  'fast-check': '^4.3.0',
}
writeFileSync(
  path.join(project, 'package.json'),
  JSON.stringify({
    name: 'keyguard-consumer',
    private: true,
    dependencies: {
      ...Object.fromEntries(packages.map(({ json }) => [json.name, `file:${tarballOf(json.name)}`])),
      ...peers,
    },
  }),
)
console.log(`installing ${packages.length} tarballs into ${project}`)
run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], project)

const exportsOf = (namespace) =>
  Object.keys(namespace).filter((key) => key !== 'default' && key !== '__esModule')
const importLines = entries.map((entry, index) => `import * as m${index} from '${entry}'`).join('\n')
const namespaces = `[${entries.map((_, index) => `m${index}`).join(', ')}]`
const checkJs = `const entries = ${JSON.stringify(entries)}
const failures = entries.filter((entry, index) => (${exportsOf.toString()})(namespaces[index]).length === 0)
if (failures.length) throw new Error('no named exports from ' + failures.join(', '))`

writeFileSync(
  path.join(project, 'esm.mjs'),
  `${importLines}\nconst namespaces = ${namespaces}\n${checkJs}\nconsole.log('esm ok: ' + entries.length + ' entry points')\n`,
)
writeFileSync(
  path.join(project, 'cjs.cjs'),
  `const namespaces = ${JSON.stringify(cjsEntries)}.map((entry) => require(entry))\n${checkJs.replace(JSON.stringify(entries), JSON.stringify(cjsEntries))}\nconsole.log('cjs ok: ' + entries.length + ' entry points')\n`,
)
const tsImports = `${importLines}\nexport const namespaces = ${namespaces}\n`
const ctsImports = cjsEntries.map((entry, index) => `import * as m${index} from '${entry}'`).join('\n')
writeFileSync(path.join(project, 'node16.mts'), tsImports)
writeFileSync(
  path.join(project, 'node16.cts'),
  `${ctsImports}\nexport const namespaces = [${cjsEntries.map((_, index) => `m${index}`).join(', ')}]\n`,
)
writeFileSync(path.join(project, 'bundler.ts'), tsImports)
const tsconfig = (files, compilerOptions) =>
  JSON.stringify({
    files,
    compilerOptions: {
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: [],
      lib: ['ES2023', 'DOM'],
      ...compilerOptions,
    },
  })
writeFileSync(
  path.join(project, 'tsconfig.node16.json'),
  tsconfig(['node16.mts', 'node16.cts'], { module: 'node16', moduleResolution: 'node16' }),
)
writeFileSync(
  path.join(project, 'tsconfig.bundler.json'),
  tsconfig(['bundler.ts'], { module: 'esnext', moduleResolution: 'bundler' }),
)

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')
const results = []
// `@keyguard/node/load` validates OPENAI_API_KEY at import and throws without one: give it a fake,
// well-formed canary key so importing every entry point works.
const importEnv = {
  ...process.env,
  OPENAI_API_KEY: 'sk-proj-CONSUMERcanary0123456789abcdefghijklmnopqrstuvwxyzABCD',
}
const check = (label, command, args) => {
  try {
    const output = run(command, args, project, importEnv).trim()
    results.push(`ok    ${label}${output ? `: ${output}` : ''}`)
  } catch (error) {
    results.push(`FAIL  ${label}: ${(error.stdout ?? '') + (error.message ?? '')}`)
  }
}
check('ESM JS', process.execPath, ['esm.mjs'])
check('CJS JS', process.execPath, ['cjs.cjs'])
check('TypeScript node16', process.execPath, [tsc, '-p', 'tsconfig.node16.json'])
check('TypeScript bundler', process.execPath, [tsc, '-p', 'tsconfig.bundler.json'])
for (const { json } of packages.filter(({ json }) => json.bin)) {
  for (const bin of Object.keys(json.bin))
    check(`bin ${bin} --version`, path.join(project, 'node_modules', '.bin', bin), ['--version'])
}
// What ships beside the code: the MIT license, and no source map pointing at sources that are not shipped.
for (const { json } of packages) {
  const installed = path.join(project, 'node_modules', ...json.name.split('/'))
  const license = path.join(installed, 'LICENSE')
  const maps = readdirSync(path.join(installed, 'dist'), { recursive: true }).filter((file) =>
    String(file).endsWith('.map'),
  )
  if (!existsSync(license) || !readFileSync(license, 'utf8').startsWith('MIT License'))
    results.push(`FAIL  ${json.name} ships no MIT LICENSE`)
  else if (maps.length > 0) results.push(`FAIL  ${json.name} ships source maps without sources: ${maps[0]}`)
  else results.push(`ok    ${json.name} ships LICENSE and no dangling source map`)
}
console.log(results.join('\n'))
if (results.some((line) => line.startsWith('FAIL'))) process.exit(1)
rmSync(work, { recursive: true, force: true })
console.log(`consumers: ${results.length} passed, 0 failed`)
