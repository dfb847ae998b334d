import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMockOpenAI, mockErrors } from '@keyguard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runBin } from './__fixtures__/run-bin'
import { runInProcess } from './__fixtures__/run-cli'

// A fake key shaped like a real one, pushed through every CLI path: it must never be printed.
const canaryBody = 'CANARYq1W2e3R4t5Y6u7I8o9P0aSdFgHjKlZxCvBnM_-FAKEk3yX0123456789abcdefXyZ7'
const canary = `sk-proj-${canaryBody}`
const needles = [canary, canaryBody, canaryBody.slice(0, 24), canaryBody.slice(20, 44)]

let server: { url: string; close(): Promise<void> }
let directory: string

beforeAll(async () => {
  const mock = createMockOpenAI({ validKeys: [] })
  mock.enqueue(mockErrors.invalidKey())
  server = await mock.listen()
  directory = await mkdtemp(join(tmpdir(), 'keyguard-cli-canary-'))
})

afterAll(async () => {
  await server?.close()
  if (directory) await rm(directory, { recursive: true, force: true })
})

describe('the canary key in the CLI', () => {
  it('never appears in any output of any command', async () => {
    const keyFile = join(directory, 'key')
    await writeFile(keyFile, `${canary}\n`)
    const requestFile = join(directory, 'request.json')
    await writeFile(
      requestFile,
      JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `my key is ${canary}` }] }),
    )
    const runs: [string[], Record<string, string>][] = [
      [['doctor', '--base-url', server.url], { OPENAI_API_KEY: canary }],
      [['doctor', '--base-url', server.url, '--json'], { OPENAI_API_KEY: canary }],
      [['doctor', '--offline'], { OPENAI_API_KEY: `"${canary}"` }],
      [['doctor', '--offline', '--json'], { OPENAI_API_KEY: `Bearer ${canary}` }],
      [['doctor', '--offline'], { OPENAI_API_KEY: ` ${canary}\n` }],
      [['doctor', '--offline'], { OPENAI_API_KEY: `sk-admin-${canaryBody}` }],
      [['doctor', '--offline'], { OPENAI_API_KEY: canary, OPENAI_API_KEY_FILE: keyFile }],
      [['doctor', '--offline'], { KEYGUARD_KEY_BATCH_FILE: keyFile, OPENAI_API_KEY: `sk-ant-${canaryBody}` }],
      [
        ['doctor', '--offline', '--json'],
        { OPENAI_API_KEY: canary, OPENAI_BASE_URL: `https://x.test/${canary}` },
      ],
      [['estimate', requestFile, '--json'], {}],
      [['estimate', requestFile, '--models', canary], {}],
      [['prices', '--model', canary], {}],
      [[`--key=${canary}`], {}],
      [['doctor', canary], {}],
    ]
    for (const [args, env] of runs) {
      const { stdout, stderr } = await runInProcess(args, { env, cwd: directory })
      expectClean(args, stdout, stderr)
    }
  })

  // The bin itself, through a real process: what the shell shows. Starting Node is slow on a busy machine.
  it('never appears in the output of the built bin', async () => {
    const runs: [string[], Record<string, string>][] = [
      [['doctor', '--offline'], { OPENAI_API_KEY: `"${canary}"` }],
      [['prices', '--model', canary], {}],
    ]
    for (const [args, env] of runs) {
      const { stdout, stderr } = await runBin(args, { env, cwd: directory })
      expectClean(args, stdout, stderr)
    }
  }, 120_000)
})

function expectClean(args: readonly string[], stdout: string, stderr: string) {
  expect(stdout + stderr, args.join(' ')).not.toBe('')
  for (const needle of needles) {
    expect(stdout, `stdout of keyguard ${args[0]}`).not.toContain(needle)
    expect(stderr, `stderr of keyguard ${args[0]}`).not.toContain(needle)
  }
}
