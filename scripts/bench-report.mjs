// Collect every package's bench-results.json into bench/results.json and print one table.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'

const rows = []
for (const name of readdirSync('packages').sort()) {
  const file = `packages/${name}/bench-results.json`
  if (!existsSync(file)) continue
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) rows.push(JSON.parse(line))
}
mkdirSync('bench', { recursive: true })
writeFileSync('bench/results.json', `${JSON.stringify(rows, null, 2)}\n`)

const meets = ({ value, target }) => {
  const match = /^(>=|<=)\s*([\d.e+-]+)$/.exec(target ?? '')
  if (!match) return ''
  const bound = Number(match[2])
  // a figure that was not measured (NaN is written as null) meets no target
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'MISSED'
  return (match[1] === '>=' ? value >= bound : value <= bound) ? 'ok' : 'MISSED'
}
const table = [
  ['name', 'value', 'unit', 'target', '', 'baseline'],
  ...rows.map((row) => [
    row.name,
    String(row.value),
    row.unit,
    row.target ?? '',
    meets(row),
    row.baseline ?? '',
  ]),
]
const widths = table[0].map((_, column) => Math.max(...table.map((row) => row[column].length)))
for (const row of table)
  console.log(
    row
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd(),
  )
console.log(`\n${rows.length} figures written to bench/results.json`)
