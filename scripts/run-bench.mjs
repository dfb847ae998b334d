// `pnpm bench` inside one package: run each bench/*.bench.mjs in its own process, one after another.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import path from 'node:path'

const dir = path.resolve('bench')
// a smoke run's figures mean nothing: they never reach the file bench-report.mjs collects
const out = path.resolve(
  process.env.KEYGUARD_BENCH_SMOKE === '1' ? 'bench-results.smoke.json' : 'bench-results.json',
)
rmSync(out, { force: true })
const files = existsSync(dir)
  ? readdirSync(dir)
      .filter((file) => file.endsWith('.bench.mjs'))
      .sort()
  : []
if (files.length === 0) console.log(`${path.basename(process.cwd())}: no benchmarks`)
for (const file of files) {
  console.log(`running ${path.basename(process.cwd())}/bench/${file}`)
  execFileSync(process.execPath, ['--expose-gc', path.join(dir, file)], {
    stdio: 'inherit',
    env: { ...process.env, KEYGUARD_BENCH_OUT: out },
  })
}
