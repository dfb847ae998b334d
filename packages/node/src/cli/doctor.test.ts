import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMockOpenAI, type MockOpenAI, mockErrors } from '@keyguard/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BinResult, RunBinOptions } from './__fixtures__/run-bin'
import { runInProcess } from './__fixtures__/run-cli'

// Canary keys: realistic shapes, never printed. Every run below fails if any of them shows up.
const body = 'FAKEk3yXcanary7Qm2Zx9Lk4Vb8Nw1Rt6Yh3Jd5Gf0Sa'
const goodKey = `sk-proj-${body}Wq8A`
const badKey = `sk-proj-${body}Bad1`
const brokeKey = `sk-proj-${body}Nq0t`
const adminKey = `sk-admin-${body}Adm1`
const canaries = [goodKey, badKey, brokeKey, adminKey, `sk-${body}Lg4y`, body]

let mock: MockOpenAI
let server: { url: string; close(): Promise<void> }
let directory: string

beforeAll(async () => {
  mock = createMockOpenAI({
    validKeys: [goodKey, brokeKey],
    keyResponses: { [brokeKey]: mockErrors.insufficientQuota() },
    rateLimits: { limitRequests: 500, limitTokens: 200_000 },
  })
  server = await mock.listen()
  directory = await mkdtemp(join(tmpdir(), 'keyguard-doctor-'))
})

afterAll(async () => {
  await server?.close()
  if (directory) await rm(directory, { recursive: true, force: true })
})

/** Run `keyguard doctor` in an empty directory (no stray .env) and check no canary leaked. */
async function doctor(args: string[], options: RunBinOptions = {}): Promise<BinResult> {
  const result = await runInProcess(['doctor', ...args], { cwd: directory, ...options })
  for (const canary of canaries) {
    expect(result.stdout).not.toContain(canary)
    expect(result.stderr).not.toContain(canary)
  }
  return result
}

describe('doctorCommand', () => {
  it('exits 0 for a valid key and shows its fingerprint, kind, source and rate limits', async () => {
    const { code, stdout } = await doctor(['--base-url', server.url], { env: { OPENAI_API_KEY: goodKey } })
    expect(stdout).toMatch(/OPENAI_API_KEY +sk-proj…Wq8A +project/)
    expect(stdout).toMatch(
      /✔ OPENAI_API_KEY: valid · \d+ models · 500 requests\/min \(\d+ left\), 200,000 tokens\/min \(\d+/,
    )
    expect(stdout).toContain('Every key is ready.')
    expect(code).toBe(0)
  })

  it('exits 1 for a key OpenAI rejects, without OpenAI’s echo of the key', async () => {
    const { code, stdout } = await doctor(['--base-url', server.url], { env: { OPENAI_API_KEY: badKey } })
    expect(code).toBe(1)
    expect(stdout).toMatch(/✖ OPENAI_API_KEY: invalid key/)
    expect(stdout).not.toMatch(/sk-proj-\*+/)
    expect(stdout).toContain('1 problem found.')
  })

  it('exits 1 when the key has no quota and says billing is the fix', async () => {
    const { code, stdout } = await doctor(['--base-url', server.url], { env: { OPENAI_API_KEY: brokeKey } })
    expect(code).toBe(1)
    expect(stdout).toMatch(/✖ OPENAI_API_KEY: no quota \(billing\) \[quota\.insufficient\]/)
    expect(stdout).toMatch(/fix: .*billing/i)
  })

  it('exits 1 when no key is set, naming the variable, without calling the API', async () => {
    const before = mock.requests.length
    const { code, stdout } = await doctor(['--base-url', server.url])
    expect(code).toBe(1)
    expect(stdout).toMatch(/✖ OPENAI_API_KEY \(process\.env\): OPENAI_API_KEY is not set/)
    expect(mock.requests.length).toBe(before)
  })

  it('exits 1 for a quoted key and says to remove the quotes', async () => {
    const { code, stdout } = await doctor(['--base-url', server.url], {
      env: { OPENAI_API_KEY: `"${goodKey}"` },
    })
    expect(code).toBe(1)
    expect(stdout).toMatch(/quot/i)
    expect(stdout).toMatch(/fix: /)
  })

  it('exits 1 for an admin key used for inference', async () => {
    const { code, stdout } = await doctor(['--base-url', server.url], { env: { OPENAI_API_KEY: adminKey } })
    expect(code).toBe(1)
    expect(stdout).toMatch(/admin/i)
  })

  it('exits 1 when both OPENAI_API_KEY and OPENAI_API_KEY_FILE are set', async () => {
    const file = join(directory, 'openai-key')
    await writeFile(file, `${goodKey}\n`)
    const { code, stdout } = await doctor(['--base-url', server.url], {
      env: { OPENAI_API_KEY: goodKey, OPENAI_API_KEY_FILE: file },
    })
    expect(code).toBe(1)
    expect(stdout).toContain('OPENAI_API_KEY_FILE')
  })

  it('reads the key from a VAR_FILE and reports the file as its source', async () => {
    const file = join(directory, 'openai-key')
    await writeFile(file, `${goodKey}\n`)
    const { code, stdout } = await doctor(['--base-url', server.url], { env: { OPENAI_API_KEY_FILE: file } })
    expect(stdout).toMatch(/OPENAI_API_KEY +sk-proj…Wq8A +project +.*openai-key/)
    expect(code).toBe(0)
  })

  it('loads the key from .env in the working directory, as the app would', async () => {
    const project = await mkdtemp(join(tmpdir(), 'keyguard-dotenv-'))
    try {
      await writeFile(join(project, '.env'), `OPENAI_API_KEY=${goodKey}\n`)
      const { code, stdout } = await doctor(['--base-url', server.url], { cwd: project })
      expect(stdout).toMatch(/OPENAI_API_KEY +sk-proj…Wq8A +project +\.env at .*\.env/)
      expect(code).toBe(0)
    } finally {
      await rm(project, { recursive: true, force: true })
    }
  })

  it('lists every load problem with its source and fix in --json, and exits 1', async () => {
    const { code, stdout } = await doctor(['--json', '--offline'], {
      env: { OPENAI_API_KEY: ` ${goodKey}`, KEYGUARD_KEY_BATCH: 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz' },
    })
    expect(code).toBe(1)
    const report = JSON.parse(stdout)
    expect(report.ok).toBe(false)
    expect(report.keys).toEqual([])
    expect(report.problems.map((problem: { path: string }) => problem.path)).toEqual(
      expect.arrayContaining(['OPENAI_API_KEY', 'KEYGUARD_KEY_BATCH']),
    )
    for (const problem of report.problems) {
      expect(problem).toMatchObject({ source: 'process.env', fix: expect.any(String) })
    }
    expect(stdout).toContain('KEYGUARD_KEY_BATCH holds an Anthropic key')
  })

  it('fails --offline for a key too short to be real', async () => {
    const { code, stdout } = await doctor(['--offline'], { env: { OPENAI_API_KEY: 'sk-proj-abc' } })
    expect(code).toBe(1)
    expect(stdout).not.toContain('Every key looks right')
    expect(stdout).toMatch(/✖ OPENAI_API_KEY \(process\.env\): .*too short/)
  })

  it('reads the dotenv files --dotenv names, and none with --no-dotenv', async () => {
    const project = await mkdtemp(join(tmpdir(), 'keyguard-dotenv-'))
    try {
      await writeFile(join(project, '.env'), 'OPENAI_API_KEY=changeme\n')
      await writeFile(join(project, 'prod.env'), `OPENAI_API_KEY=${goodKey}\n`)
      const named = await doctor(['--offline', '--dotenv', 'prod.env'], { cwd: project })
      expect(named.stdout).toMatch(/OPENAI_API_KEY +sk-proj…Wq8A +project +\.env at .*prod\.env/)
      expect(named.code).toBe(0)
      const none = await doctor(['--offline', '--no-dotenv'], { cwd: project })
      expect(none.stdout).toContain('OPENAI_API_KEY is not set')
      expect(none.code).toBe(1)
      const missing = await doctor(['--offline', '--dotenv', 'missing.env'], { cwd: project })
      expect(missing.stdout).toContain('missing.env cannot be read (ENOENT)')
      expect(missing.code).toBe(1)
    } finally {
      await rm(project, { recursive: true, force: true })
    }
  })

  it('answers the old --env-file with its new name and exits 2', async () => {
    const { code, stderr } = await doctor(['--offline', '--env-file', 'missing.env'])
    expect(code).toBe(2)
    expect(stderr).toContain('--env-file is now --dotenv')
  })

  it('tells a CLI user the flag that accepts a gateway key, and accepts it with --allow-unknown', async () => {
    const file = join(directory, 'gateway-key')
    await writeFile(file, 'gw-0123456789abcdefghijklmnop\n')
    const refused = await doctor(['--offline'], { env: { OPENAI_API_KEY_FILE: file } })
    expect(refused.code).toBe(1)
    expect(refused.stdout).toContain('keyguard doctor --allow-unknown')
    expect(refused.stdout).not.toContain('allowUnknown: true')
    const accepted = await doctor(['--offline', '--allow-unknown'], { env: { OPENAI_API_KEY_FILE: file } })
    expect(accepted.code).toBe(0)
  })

  it('answers a mistyped option with a suggestion and exits 2', async () => {
    const { code, stderr } = await doctor(['--ofline'])
    expect(code).toBe(2)
    expect(stderr).toContain("error: unknown option '--ofline'\n(Did you mean --offline?)")
  })

  it('checks only locally with --offline: no request reaches the API', async () => {
    const before = mock.requests.length
    const { code, stdout } = await doctor(['--offline', '--base-url', server.url], {
      env: { OPENAI_API_KEY: goodKey },
    })
    expect(code).toBe(0)
    expect(stdout).toContain('offline')
    expect(stdout).not.toContain('Live check')
    expect(mock.requests.length).toBe(before)
  })

  it('warns about a legacy user key without failing', async () => {
    const { code, stdout } = await doctor(['--offline'], { env: { OPENAI_API_KEY: `sk-${body}Lg4y` } })
    expect(stdout).toMatch(/OPENAI_API_KEY +sk…Lg4y +legacy-user/)
    expect(stdout).toMatch(/! OPENAI_API_KEY: .*legacy user key.*\n +fix: /)
    expect(stdout).toContain('Every key looks right (not checked live). (1 warning)')
    expect(code).toBe(0)
  })

  it('prints one JSON object with --json', async () => {
    const { code, stdout } = await doctor(['--json', '--base-url', server.url], {
      env: { OPENAI_API_KEY: brokeKey },
    })
    expect(code).toBe(1)
    const report = JSON.parse(stdout)
    expect(report).toMatchObject({
      ok: false,
      offline: false,
      baseUrl: server.url,
      problems: [],
      keys: [
        {
          name: 'OPENAI_API_KEY',
          fingerprint: 'sk-proj…Nq0t',
          kind: 'project',
          live: { ok: false, status: 'no-quota', code: 'quota.insufficient' },
        },
      ],
    })
  })

  it('exits 2 on a usage error, such as a timeout that is not a number', async () => {
    const { code, stderr } = await doctor(['--timeout', 'soon'])
    expect(code).toBe(2)
    expect(stderr).toContain("option '--timeout <ms>' argument 'soon' is invalid")
  })
})
