// No import cycles in what the packages ship: no module imports itself through others (a runtime cycle
// makes load order matter), and no folder of a package's src imports a folder that imports it back
// (folders name concepts; a cycle between two means neither is the lower one). Type-only imports
// are left out (they vanish at runtime), and so are tests, fixtures and test support.
//
//   node scripts/check-cycles.mjs      (part of `pnpm lint`)
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import madge from 'madge'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const sources = readdirSync(join(root, 'packages')).map((name) => join(root, 'packages', name, 'src'))
const testOnly = /(\.test\.ts|\.test-d\.ts|\.d\.ts)$|\/__fixtures__\/|\/__edge__\//
// Test support (a module importing vitest) is not shipped; it may import anything.
const testSupport = sources
  .flatMap((dir) => readdirSync(dir, { recursive: true }).map((file) => join(dir, String(file))))
  .filter(
    (file) =>
      file.endsWith('.ts') && !testOnly.test(file) && /from 'vitest'/.test(readFileSync(file, 'utf8')),
  )
  .map((file) => new RegExp(`${relative(join(root, 'packages'), file).replace(/[.]/g, '\\.')}$`))

const graph = await madge(sources, {
  baseDir: join(root, 'packages'),
  fileExtensions: ['ts'],
  tsConfig: join(root, 'tsconfig.base.json'),
  excludeRegExp: [testOnly, ...testSupport],
  detectiveOptions: { ts: { skipTypeImports: true }, tsx: { skipTypeImports: true } },
})

const problems = graph.circular().map((cycle) => `module cycle: ${[...cycle, cycle[0]].join(' -> ')}`)

const folderOf = (file) => file.match(/^([^/]+\/src\/[^/]+)\//)?.[1]
const edges = new Map()
for (const [from, targets] of Object.entries(graph.obj()))
  for (const to of targets) {
    const a = folderOf(from)
    const b = folderOf(to)
    if (!a || !b || a === b) continue
    if (!edges.has(a)) edges.set(a, new Map())
    edges.get(a).set(b, [...(edges.get(a).get(b) ?? []), `${from} -> ${to}`])
  }
for (const [a, targets] of edges)
  for (const [b, why] of targets) {
    const back = edges.get(b)?.get(a)
    if (a < b && back) problems.push(`folder cycle: ${a} <-> ${b}\n    ${[...why, ...back].join('\n    ')}`)
  }

if (problems.length > 0) {
  console.error(`FAIL: ${problems.length} import cycle(s):\n  ${problems.join('\n  ')}`)
  console.error('Move the shared piece into the lower module or folder, so imports point one way.')
  process.exit(1)
}
console.log(`no import cycles in ${Object.keys(graph.obj()).length} modules of ${sources.length} packages`)
