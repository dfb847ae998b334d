// The public API of each published package, as one reviewed file per package (`packages/<name>/api-report.md`):
// every name each `exports` entry point gives, with its declaration, read from the built `.d.ts`.
//
//   node scripts/api-report.mjs          write the reports (after `pnpm build`)
//   node scripts/api-report.mjs --check  fail when a package's surface differs from its report (CI)
//
// A change to the surface is then a change to a checked-in file, seen in review like any other.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const check = process.argv.includes('--check')
const updateCommand = 'pnpm build && pnpm api:update'

function entryPoints(packageDir) {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))
  const entries = []
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    if (subpath === './package.json') continue
    const types = target.import?.types ?? target.types
    if (!types) throw new Error(`${manifest.name}: exports['${subpath}'] names no types`)
    entries.push({
      specifier: join(manifest.name, subpath).replace(/\/\.$/, ''),
      file: join(packageDir, types),
    })
  }
  return { name: manifest.name, private: manifest.private === true, entries }
}

const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed })

/** The declaration of one export as the `.d.ts` states it, comments left out, `declare` and `export` dropped. */
function declarationText(declaration, checker, name) {
  const source = declaration.getSourceFile()
  if (ts.isVariableDeclaration(declaration)) {
    const type = checker.getTypeAtLocation(declaration)
    const text = declaration.type
      ? printer.printNode(ts.EmitHint.Unspecified, declaration.type, source)
      : checker.typeToString(type, declaration, ts.TypeFormatFlags.NoTruncation)
    return `const ${name}: ${text}`
  }
  if (ts.isExportSpecifier(declaration) || ts.isImportSpecifier(declaration)) return `export { ${name} }`
  return printer
    .printNode(ts.EmitHint.Unspecified, declaration, source)
    .replace(/^(export )?(default )?(declare )?/, '')
    .replace(/^(function|class|interface|type|namespace|enum|abstract class) [\w$]+/, `$1 ${name}`)
}

function report(pkg) {
  const program = ts.createProgram(
    pkg.entries.map((entry) => entry.file),
    {
      noEmit: true,
      skipLibCheck: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
    },
  )
  const checker = program.getTypeChecker()
  const sections = []
  const counts = { values: 0, types: 0 }
  for (const entry of pkg.entries) {
    if (!existsSync(entry.file)) throw new Error(`${entry.file} is missing: run pnpm build first`)
    const source = program.getSourceFile(entry.file)
    const moduleSymbol = checker.getSymbolAtLocation(source)
    const exported = moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : []
    const lines = []
    let values = 0
    let types = 0
    for (const symbol of [...exported].sort((a, b) => a.name.localeCompare(b.name))) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
      const isValue = (target.flags & ts.SymbolFlags.Value) !== 0
      if (isValue) values++
      else types++
      for (const declaration of target.declarations ?? [])
        lines.push(declarationText(declaration, checker, symbol.name))
    }
    counts.values += values
    counts.types += types
    sections.push(
      `## \`${entry.specifier}\`\n\n${values + types} exports: ${values} values, ${types} types.\n\n\`\`\`ts\n${lines.join('\n\n')}\n\`\`\`\n`,
    )
  }
  const header =
    `# ${pkg.name}: API report\n\n` +
    'Generated from the built `.d.ts` by `scripts/api-report.mjs`; CI fails when the published surface differs.\n' +
    `Update it with \`${updateCommand}\` and review the diff.\n\n` +
    `${counts.values + counts.types} exports in all: ${counts.values} values, ${counts.types} types.\n\n`
  return { text: header + sections.join('\n'), counts }
}

const packagesDir = join(root, 'packages')
let stale = 0
for (const name of readdirSync(packagesDir).sort()) {
  const dir = join(packagesDir, name)
  if (!existsSync(join(dir, 'package.json'))) continue
  const pkg = entryPoints(dir)
  if (pkg.private) continue
  const { text, counts } = report(pkg)
  const file = join(dir, 'api-report.md')
  const before = existsSync(file) ? readFileSync(file, 'utf8') : ''
  console.log(
    `${pkg.name}: ${counts.values + counts.types} exports (${counts.values} values, ${counts.types} types)`,
  )
  if (before === text) continue
  if (!check) {
    writeFileSync(file, text)
    continue
  }
  stale++
  const old = new Set(before.split('\n'))
  const now = new Set(text.split('\n'))
  console.error(`\n${pkg.name}: the public API differs from packages/${name}/api-report.md`)
  for (const line of before.split('\n')) if (!now.has(line)) console.error(`  - ${line}`)
  for (const line of text.split('\n')) if (!old.has(line)) console.error(`  + ${line}`)
}
if (stale > 0) {
  console.error(
    `\nFAIL: ${stale} API report(s) out of date. If the change is meant, run \`${updateCommand}\` and commit the reports.`,
  )
  process.exit(1)
}
