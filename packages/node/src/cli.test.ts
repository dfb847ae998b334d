import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const bin = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const run = async (...args: string[]) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH },
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string }
    return { code, stdout, stderr }
  }
}

describe('keyguard bin', () => {
  it('prints its version from package.json', async () => {
    const { code, stdout } = await run('--version')
    expect(code).toBe(0)
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('prints help and exits 0', async () => {
    const { code, stdout } = await run('--help')
    expect(code).toBe(0)
    expect(stdout).toContain('Usage: keyguard')
  })

  it('exits 2 on an unknown option and says so on stderr', async () => {
    const { code, stderr, stdout } = await run('--verison')
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/unknown option '--verison'\n\(Did you mean --version\?\)/)
  })
})
