// Packs every published workspace package (pnpm pack: workspace ranges become real versions) into
// `<work>/tarballs`, as npm users would receive them. Shared by consumer-test.mjs and compat.mjs.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

/**
 * @param {string} root the repository root
 * @param {string} work a scratch directory
 * @returns {{ packages: { dir: string, json: any }[], tarballs: string, tarballOf: (name: string) => string }}
 */
export function packPackages(root, work) {
  const packages = readdirSync(path.join(root, 'packages'))
    .map((dir) => ({
      dir: path.join(root, 'packages', dir),
      json: JSON.parse(readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8')),
    }))
    .filter(({ json }) => !json.private)
  const tarballs = path.join(work, 'tarballs')
  mkdirSync(tarballs, { recursive: true })
  for (const { dir } of packages)
    execFileSync('pnpm', ['pack', '--pack-destination', tarballs], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'inherit'],
    })
  const tarballOf = (name) => {
    const file = readdirSync(tarballs).find((f) =>
      f.startsWith(`${name.replace('@', '').replace('/', '-')}-`),
    )
    if (!file) throw new Error(`no tarball packed for ${name}`)
    return path.join(tarballs, file)
  }
  return { packages, tarballs, tarballOf }
}
