import { describe, expect, it } from 'vitest'
import { runBin } from './cli/__fixtures__/run-bin'
import { runInProcess } from './cli/__fixtures__/run-cli'

// These start the built bin (what `npx keyguard` runs), one Node process each: a timeout that fits
// starting Node on a busy machine. What does not depend on the process runs in-process.
const spawnTimeout = 120_000

describe('keyguard bin', () => {
  it(
    'prints its version from package.json',
    async () => {
      const { code, stdout } = await runBin(['--version'])
      expect(code).toBe(0)
      expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
    },
    spawnTimeout,
  )

  it(
    'prints help listing the commands, the exit codes and examples',
    async () => {
      const { code, stdout } = await runBin(['--help'])
      expect(code).toBe(0)
      expect(stdout).toContain('Usage: keyguard')
      expect(stdout).toContain('Exit codes: 0 all well, 1 a problem was found, 2 a usage error.')
    },
    spawnTimeout,
  )

  it(
    'exits 2 on an unknown option and suggests the right one on stderr',
    async () => {
      const { code, stderr, stdout } = await runBin(['--verison'])
      expect(code).toBe(2)
      expect(stdout).toBe('')
      expect(stderr).toMatch(/unknown option '--verison'\n\(Did you mean --version\?\)/)
    },
    spawnTimeout,
  )

  it(
    'prints no ANSI color when stdout is not a terminal',
    async () => {
      const { stderr } = await runBin(['--verison'])
      expect(stderr).not.toContain('\u001b[')
    },
    spawnTimeout,
  )

  it(
    'colors errors when FORCE_COLOR asks for it, and NO_COLOR wins over it',
    async () => {
      expect((await runBin(['--verison'], { env: { FORCE_COLOR: '1' } })).stderr).toContain('\u001b[31m')
      expect(
        (await runBin(['--verison'], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } })).stderr,
      ).not.toContain('\u001b[')
    },
    spawnTimeout,
  )
})

describe('keyguard doctor --dotenv', () => {
  it(
    'reaches doctor through Node, which would swallow --env-file',
    async () => {
      const { code, stdout } = await runBin(['doctor', '--offline', '--dotenv', 'missing.env'])
      expect(stdout).toContain('missing.env cannot be read (ENOENT)')
      expect(code).toBe(1)
    },
    spawnTimeout,
  )
})

describe('keyguard help', () => {
  it(
    'prints help on stderr and exits 2 when no command is given',
    async () => {
      const { code, stdout, stderr } = await runBin([])
      expect(code).toBe(2)
      expect(stdout).toBe('')
      expect(stderr).toContain('Usage: keyguard [options] [command]')
    },
    spawnTimeout,
  )

  it('lists the three commands', async () => {
    const { stdout } = await runInProcess(['--help'])
    expect(stdout).toMatch(/\n {2}doctor \[options\] +Check every OpenAI key/)
    expect(stdout).toMatch(/\n {2}estimate \[options\] \[file\] +Estimate tokens and cost/)
    expect(stdout).toMatch(/\n {2}prices \[options\] +Show the bundled OpenAI price table/)
  })

  it('prints help for one command with its options and examples', async () => {
    const { code, stdout } = await runInProcess(['doctor', '--help'])
    expect(code).toBe(0)
    expect(stdout).toContain('Usage: keyguard doctor [options]')
    expect(stdout).toContain('--offline')
    expect(stdout).toContain('$ keyguard doctor --offline --json')
  })
})
