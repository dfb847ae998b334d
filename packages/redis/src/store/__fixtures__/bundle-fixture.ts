import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/**
 * Bundles `__fixtures__/<name>.ts` into one ESM file plain Node can run as a child process (ioredis
 * and redis stay external; @keyguard/core comes from its build, as the tests' own imports do), and answers its path.
 */
export async function bundleFixture(name: string): Promise<string> {
  const outDir = here('../../../node_modules/.cache/keyguard-redis-tests')
  const outfile = `${outDir}/${name}-${process.pid}.mjs`
  mkdirSync(outDir, { recursive: true })
  await build({
    entryPoints: [here(`./${name}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    external: ['ioredis', 'redis'],
    logLevel: 'error',
  })
  return outfile
}
