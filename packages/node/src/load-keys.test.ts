import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { isKeyguardError, type KeyguardError } from '@keyguard/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadKeys } from './load-keys'

const body = 'FAKEk3yXq1w2e3r4t5y6u7i8o9p0asdfghjklzxcvbnm'
const key = (tail: string) => `sk-proj-${body}${tail}`

let dir: string
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'keyguard-load-keys-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, text: string) => {
  const full = path.join(dir, name)
  writeFileSync(full, text)
  return full
}

const errorOf = (run: () => unknown): KeyguardError => {
  try {
    run()
  } catch (error) {
    if (isKeyguardError(error)) return error
    throw error
  }
  throw new Error('expected a KeyguardError')
}

describe('loadKeys', () => {
  it('reads keys and settings from the environment with provenance', () => {
    const loaded = loadKeys({
      env: {
        OPENAI_API_KEY: key('AAAA'),
        KEYGUARD_KEY_BATCH: key('BBBB'),
        OPENAI_ORG_ID: 'org-abc123',
        OPENAI_PROJECT_ID: 'proj_abc123',
        OPENAI_BASE_URL: 'http://127.0.0.1:8080/v1',
      },
      cwd: dir,
    })
    expect(loaded.apiKey).toMatchObject({ fingerprint: 'sk-proj…AAAA', source: 'the env option' })
    expect(loaded.keys.default).toBe(loaded.apiKey)
    expect(loaded.keys.batch?.fingerprint).toBe('sk-proj…BBBB')
    expect(loaded.keys.batch?.secret.reveal()).toBe(key('BBBB'))
    expect(loaded.organization).toEqual({
      value: 'org-abc123',
      source: 'the env option',
      variable: 'OPENAI_ORG_ID',
    })
    expect(loaded.project?.value).toBe('proj_abc123')
    expect(loaded.baseUrl?.value).toBe('http://127.0.0.1:8080/v1')
    expect(Object.isFrozen(loaded)).toBe(true)
    expect(Object.isFrozen(loaded.keys)).toBe(true)
  })

  it('reads a .env file; the environment wins unless override is set', () => {
    file('.env', `OPENAI_API_KEY=${key('FILE')}\nOPENAI_ORGANIZATION=org-fromfile\n`)
    const fromFile = loadKeys({ env: {}, envFile: true, cwd: dir })
    expect(fromFile.apiKey?.fingerprint).toBe('sk-proj…FILE')
    expect(fromFile.apiKey?.source).toBe(`.env at ${path.join(dir, '.env')}`)
    expect(fromFile.organization?.variable).toBe('OPENAI_ORGANIZATION')
    const env = { OPENAI_API_KEY: key('ENVV') }
    expect(loadKeys({ env, envFile: true, cwd: dir }).apiKey?.fingerprint).toBe('sk-proj…ENVV')
    expect(loadKeys({ env, envFile: true, cwd: dir, override: true }).apiKey?.fingerprint).toBe(
      'sk-proj…FILE',
    )
  })

  it('reads .env in the working directory by default, and none with envFile: false', () => {
    file('.env', `OPENAI_API_KEY=${key('FILE')}\n`)
    expect(loadKeys({ env: {}, cwd: dir }).apiKey?.source).toBe(`.env at ${path.join(dir, '.env')}`)
    const error = errorOf(() => loadKeys({ env: {}, cwd: dir, envFile: false }))
    expect(error.code).toBe('key.missing')
  })

  it('skips a missing default .env but reports a missing named one', () => {
    expect(loadKeys({ env: { OPENAI_API_KEY: key('AAAA') }, envFile: true, cwd: dir }).apiKey).toBeDefined()
    const error = errorOf(() =>
      loadKeys({ env: { OPENAI_API_KEY: key('AAAA') }, envFile: 'prod.env', cwd: dir }),
    )
    expect(error.problems.map((p) => p.code)).toEqual(['env_file_unreadable'])
  })

  it('reads VAR_FILE secret files and trims the trailing newline', () => {
    const secretFile = file('openai', `${key('SECR')}\n`)
    const loaded = loadKeys({
      env: {
        OPENAI_API_KEY_FILE: secretFile,
        KEYGUARD_KEY_TENANT_ACME_FILE: file('acme', `${key('ACME')}\r\n`),
      },
      cwd: dir,
    })
    expect(loaded.apiKey?.fingerprint).toBe('sk-proj…SECR')
    expect(loaded.apiKey?.source).toBe(`file ${secretFile} from OPENAI_API_KEY_FILE`)
    expect(loaded.keys.tenant_acme?.fingerprint).toBe('sk-proj…ACME')
  })

  it('reports every problem of every variable in one error, with sources and no values', () => {
    file('.env', `OPENAI_API_KEY="Bearer ${key('AAAA')}"\n`)
    const error = errorOf(() =>
      loadKeys({
        env: {
          OPENAI_API_KEY_FILE: 'missing-secret',
          KEYGUARD_KEY_BATCH: 'changeme',
          KEYGUARD_KEY_BATCH_FILE: file('batch', key('BBBB')),
          OPENAI_ORG_ID: 'org-one',
          OPENAI_ORGANIZATION: 'org-two',
          OPENAI_PROJECT_ID: 'my project',
          OPENAI_BASE_URL: 'api.openai.com',
        },
        envFile: true,
        cwd: dir,
      }),
    )
    expect(error.code).toBe('key.invalid')
    expect(error.problems.map((p) => [p.path, p.code])).toEqual([
      ['OPENAI_API_KEY', 'both_set'],
      ['KEYGUARD_KEY_BATCH', 'both_set'],
      ['OPENAI_ORGANIZATION', 'conflict'],
      ['OPENAI_PROJECT_ID', 'invalid_project'],
      ['OPENAI_BASE_URL', 'invalid_url'],
    ])
    expect(error.message).toContain(`OPENAI_API_KEY (.env at ${path.join(dir, '.env')} and the env option)`)
    expect(error.message).not.toContain(body)
    expect(error.message).not.toContain('org-one')
  })

  it("passes on parseApiKey's problems for a malformed key, with the variable's source", () => {
    const error = errorOf(() => loadKeys({ env: { OPENAI_API_KEY: ` "${key('AAAA')}"\n` }, cwd: dir }))
    expect(error.code).toBe('key.invalid')
    expect(error.problems.map((p) => p.code)).toEqual(['newline', 'quoted'])
    expect(error.message).toContain('OPENAI_API_KEY (the env option)')
  })

  it('reports an empty secret file instead of treating the key as unset', () => {
    const error = errorOf(() => loadKeys({ env: { OPENAI_API_KEY_FILE: file('empty', '\n') }, cwd: dir }))
    expect(error.problems.map((p) => [p.path, p.code])).toEqual([['OPENAI_API_KEY', 'empty_file']])
  })

  it('reports a missing key as key.missing, unless not required', () => {
    const error = errorOf(() => loadKeys({ env: { OPENAI_API_KEY: '' }, cwd: dir }))
    expect(error.code).toBe('key.missing')
    expect(error.problems[0]?.fix).toContain('platform.openai.com/api-keys')
    expect(loadKeys({ env: {}, cwd: dir, required: false }).apiKey).toBeUndefined()
  })

  it('collects warnings instead of printing them', () => {
    const loaded = loadKeys({ env: { OPENAI_API_KEY: `sk-${body}` }, cwd: dir })
    expect(loaded.warnings.map((w) => w.code)).toEqual(['legacy_user_key'])
  })
})

const dist = (name: string) => fileURLToPath(new URL(`../dist/${name}`, import.meta.url))
const runNode = async (script: string, env: Record<string, string>, cwd: string) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script],
      {
        env: { PATH: process.env.PATH ?? '', ...env },
        cwd,
      },
    )
    return { code: 0, stdout, stderr }
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string }
    return { code, stdout, stderr }
  }
}

describe('loadKeys in a child process', () => {
  // Each case starts Node processes: generous timeouts, so a busy machine does not fail them.
  it('reads the real process.env and, by default, .env in the working directory, and leaves process.env unchanged', async () => {
    file('.env', `KEYGUARD_KEY_BATCH=${key('BBBB')}\n`)
    const script = `import { loadKeys } from ${JSON.stringify(dist('index.js'))}
const loaded = loadKeys()
console.log(JSON.stringify({ loaded, touched: process.env.KEYGUARD_KEY_BATCH ?? null }))`
    const { code, stdout } = await runNode(script, { OPENAI_API_KEY: key('AAAA') }, dir)
    expect(code).toBe(0)
    const { loaded, touched } = JSON.parse(stdout)
    expect(loaded.apiKey).toMatchObject({ fingerprint: 'sk-proj…AAAA', source: 'process.env' })
    expect(loaded.apiKey.secret).toBe('<redacted:OPENAI_API_KEY>')
    expect(loaded.keys.batch.source).toBe(`.env at ${path.join(dir, '.env')}`)
    expect(touched).toBeNull()
  }, 120_000)

  it('@keyguard/node/load exports the keys at boot, or throws the aggregated error and prints nothing itself', async () => {
    const script = `import { keys } from ${JSON.stringify(dist('load.js'))}
process.stdout.write(keys.apiKey.fingerprint)`
    const ok = await runNode(script, { OPENAI_API_KEY: key('BOOT') }, dir)
    expect(ok).toMatchObject({ code: 0, stdout: 'sk-proj…BOOT' })

    const guarded = `try { await import(${JSON.stringify(dist('load.js'))}) } catch (error) {
  process.stderr.write(JSON.stringify({ code: error.code, problems: error.problems.map((p) => p.code) })) }`
    const failed = await runNode(
      guarded,
      { OPENAI_API_KEY: `'${key('BOOT')}'`, OPENAI_BASE_URL: 'nope' },
      dir,
    )
    expect(failed.stdout).toBe('')
    expect(JSON.parse(failed.stderr)).toEqual({ code: 'key.invalid', problems: ['quoted', 'invalid_url'] })

    const cjs = await runNode(
      `import { createRequire } from 'node:module'; createRequire(import.meta.url)(${JSON.stringify(dist('load.cjs'))})`,
      {},
      dir,
    )
    expect(cjs.code).not.toBe(0)
    expect(cjs.stdout).toBe('')
    expect(cjs.stderr).toContain('OPENAI_API_KEY is not set')
  }, 180_000)
})
