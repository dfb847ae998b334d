import { builtinModules } from 'node:module'
import path from 'node:path'
import type { Plugin } from 'vitest/config'

const nodeBuiltins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]))
const srcDir = path.resolve(import.meta.dirname, 'src')
// Names that exist on Node but not on edge runtimes. Shadowing them at the top of each module makes a
// stray `process.env` throw and `typeof process` read 'undefined', exactly as on Workers.
const nodeGlobals = [
  'process',
  'Buffer',
  'global',
  'require',
  'module',
  '__dirname',
  '__filename',
  'setImmediate',
]
const shadow = `let ${nodeGlobals.map((name) => `${name} = undefined`).join(', ')};`

// Vitest externalizes built-ins before resolveId runs, so imports are read from the source itself.
const importSpecifier = /\b(?:from|import)\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g

const isNodeOnlyTest = (file: string) => file.endsWith('.node.test.ts')

/**
 * The edge lane for @keyguard/core: Node built-in imports fail to resolve and Node globals are
 * undefined inside core, so a Node-ism fails a test instead of a user's deploy.
 */
export function edgeLane(): Plugin {
  return {
    name: 'keyguard:edge-lane',
    enforce: 'pre',
    transform(code, id) {
      const file = id.split('?')[0] ?? id
      if (!file.startsWith(srcDir) || !file.endsWith('.ts') || isNodeOnlyTest(file)) return null
      for (const match of code.matchAll(importSpecifier)) {
        const specifier = match[1] ?? match[2]
        if (specifier && nodeBuiltins.has(specifier)) {
          throw new Error(
            `Node-only module "${specifier}" imported by ${path.relative(srcDir, file)}: @keyguard/core must use Web-standard APIs only (edge lane).`,
          )
        }
      }
      if (/\.test(-d)?\.ts$/.test(file)) return null
      // Same line as the first line of code, so stack traces keep their line numbers.
      return { code: shadow + code, map: null }
    },
  }
}
