import { describe, expect, it } from 'vitest'
import { type CliIO, runCli } from './program'

const capture = (options: Partial<CliIO> = {}) => {
  const output = { stdout: '', stderr: '' }
  const io: CliIO = {
    stdout: (text) => {
      output.stdout += text
    },
    stderr: (text) => {
      output.stderr += text
    },
    ...options,
  }
  return { io, output }
}

describe('runCli', () => {
  it('runs in-process with the version it is given', async () => {
    const { io, output } = capture()
    expect(await runCli(['--version'], io, '1.2.3')).toBe(0)
    expect(output.stdout).toBe('1.2.3\n')
  })

  it('colors only when the IO allows it, and --no-color wins', async () => {
    const plain = capture()
    await runCli(['prices', '--model', 'gpt-4o-mini'], plain.io, '1.0.0')
    expect(plain.output.stdout).not.toContain('\u001b[')
    const colored = capture({ color: true })
    await runCli(['prices', '--model', 'gpt-4o-mini'], colored.io, '1.0.0')
    expect(colored.output.stdout).toContain('\u001b[1mOpenAI prices')
    const off = capture({ color: true })
    await runCli(['--no-color', 'prices', '--model', 'gpt-4o-mini'], off.io, '1.0.0')
    expect(off.output.stdout).not.toContain('\u001b[')
  })

  it('reads the request body through the injected stdin', async () => {
    const { io, output } = capture({
      readStdin: async () => JSON.stringify({ model: 'gpt-4o-mini', input: 'hi', max_output_tokens: 16 }),
    })
    expect(await runCli(['estimate', '--json'], io, '1.0.0')).toBe(0)
    expect(JSON.parse(output.stdout)).toMatchObject({
      endpoint: '/v1/responses',
      estimates: [{ model: 'gpt-4o-mini', maxOutputTokens: 16 }],
    })
  })

  it('loads keys from the injected environment and exits 1 without one', async () => {
    const { io, output } = capture({ env: {}, cwd: '/' })
    expect(await runCli(['doctor', '--offline', '--json'], io, '1.0.0')).toBe(1)
    expect(JSON.parse(output.stdout).problems[0]).toMatchObject({ path: 'OPENAI_API_KEY', code: 'missing' })
  })
})
