import { afterEach, describe, expect, it } from 'vitest'
import { isKeyguardError, type KeyguardError } from '../errors/keyguard-error'
import { Secret } from '../secrets/secret'
import { parseApiKey } from './parse-api-key'

const body = 'FAKEk3yXq1w2e3r4t5y6u7i8o9p0asdfghjklzxcvbnm_-QWERTYUIOP'
const project = `sk-proj-${body}Wq8A`

const errorOf = (run: () => unknown): KeyguardError => {
  try {
    run()
  } catch (error) {
    if (isKeyguardError(error)) return error
    throw error
  }
  throw new Error('expected a KeyguardError')
}
const codesOf = (value: unknown, options = {}) =>
  errorOf(() => parseApiKey(value as string, options)).problems.map((problem) => problem.code)

describe('parseApiKey', () => {
  it('parses each kind of OpenAI key with its fingerprint', () => {
    const cases = [
      [project, 'project', 'sk-proj…Wq8A'],
      [`sk-svcacct-${body}Zz01`, 'service-account', 'sk-svcacct…Zz01'],
      [`sk-${body}9xYz`, 'legacy-user', 'sk…9xYz'],
    ] as const
    for (const [value, kind, fingerprint] of cases) {
      const key = parseApiKey(value, { source: 'test' })
      expect(key).toMatchObject({ kind, fingerprint, source: 'test', name: 'OPENAI_API_KEY' })
      expect(key.secret.reveal()).toBe(value)
      expect(key.secret.name).toBe('OPENAI_API_KEY')
      expect(Object.isFrozen(key)).toBe(true)
    }
  })

  it('accepts keys of any realistic length, and rejects one too short to be real', () => {
    expect(parseApiKey(`sk-proj-${'a'.repeat(32)}`).kind).toBe('project')
    expect(parseApiKey(`sk-proj-${'a'.repeat(5000)}`).kind).toBe('project')
    for (const value of ['sk-proj-abc', 'sk-proj-a1B2', 'sk-abcdefghijklmnopqrstuvwxyz0123456789'])
      expect(codesOf(value), value).toEqual(['too_short'])
  })

  it('warns about a legacy user key without rejecting it', () => {
    expect(parseApiKey(`sk-${body}`).warnings.map((w) => w.code)).toEqual(['legacy_user_key'])
    expect(parseApiKey(project).warnings).toEqual([])
  })

  it('rejects an admin key for inference with the fix, and accepts it for admin use', () => {
    const admin = `sk-admin-${body}AbCd`
    const error = errorOf(() => parseApiKey(admin))
    expect(error.code).toBe('key.invalid')
    expect(error.problems[0]?.code).toBe('admin_key_for_inference')
    expect(error.problems[0]?.fix).toMatch(/project key \(sk-proj-\)/)
    expect(parseApiKey(admin, { purpose: 'admin' }).kind).toBe('admin')
    expect(codesOf(project, { purpose: 'admin' })).toEqual(['not_admin_key'])
  })

  it('rejects a key of unknown kind unless asked, then warns', () => {
    expect(codesOf('gateway-token-0123456789')).toEqual(['not_openai_key'])
    const key = parseApiKey('gateway-token-0123456789', { allowUnknown: true })
    expect(key.kind).toBe('unknown')
    expect(key.warnings.map((w) => w.code)).toEqual(['unknown_kind'])
  })

  it('reports a missing value as key.missing', () => {
    for (const value of [undefined, null, '']) {
      const error = errorOf(() => parseApiKey(value, { name: 'KEYGUARD_KEY_BATCH' }))
      expect(error.code).toBe('key.missing')
      expect(error.problems).toEqual([
        expect.objectContaining({ code: 'missing', path: 'KEYGUARD_KEY_BATCH' }),
      ])
    }
  })

  it('reports every problem at once, each with a fix', () => {
    const error = errorOf(() => parseApiKey(`"Bearer sk-admin-${body}"\n`, { source: '.env' }))
    expect(error.code).toBe('key.invalid')
    expect(error.problems.map((p) => p.code)).toEqual([
      'newline',
      'quoted',
      'bearer_prefix',
      'admin_key_for_inference',
    ])
    for (const problem of error.problems) {
      expect(problem.fix.length).toBeGreaterThan(10)
      expect(problem.path).toBe('OPENAI_API_KEY')
    }
    expect(error.message).toContain('OPENAI_API_KEY (.env) is not a usable OpenAI API key (4 problems)')
  })

  it('names each shape problem', () => {
    expect(codesOf('   ')).toEqual(['empty'])
    expect(codesOf(` ${project} `)).toEqual(['whitespace'])
    expect(codesOf(`'${project}'`)).toEqual(['quoted'])
    expect(codesOf(`\u201C${project}\u201D`)).toEqual(['quoted'])
    expect(codesOf(`bearer ${project}`)).toEqual(['bearer_prefix'])
    expect(codesOf(`sk-proj-${body.slice(0, 20)}\n${body.slice(20)}`)).toEqual(['inner_whitespace'])
    expect(codesOf(`sk-proj-${body}\u200B`)).toEqual(['invisible_characters'])
    expect(codesOf(`sk-proj-${body}é`)).toEqual(['invalid_characters'])
    expect(codesOf('https://api.openai.com/v1')).toEqual(['url'])
    expect(codesOf(`{"api_key":"${project}"}`)).toEqual(['json'])
  })

  it('recognises placeholders from examples and templates', () => {
    const placeholders = [
      'sk-...',
      'sk-…',
      'sk-xxxxxxxx',
      'sk-proj-xxxxxxxxxxxxxxxx',
      'your-api-key-here',
      'YOUR_OPENAI_API_KEY',
      '<OPENAI_API_KEY>',
      `\${OPENAI_API_KEY}`,
      '{{ openai_api_key }}',
      'changeme',
      'xxx',
      'undefined',
      'null',
      'sk-your-key',
    ]
    for (const value of placeholders) expect(codesOf(value), value).toEqual(['placeholder'])
  })

  it("names the provider of another provider's key", () => {
    const cases = [
      ['sk-ant-api03-abcdefghijklmnop', 'Anthropic'],
      ['sk-or-v1-abcdefghijklmnop', 'OpenRouter'],
      ['gsk_abcdefghijklmnopqrstuvwxyz', 'Groq'],
      ['AIzaSyAbcdefghijklmnopqrstuvwxyz012345', 'Google'],
      ['xai-abcdefghijklmnopqrstuvwxyz', 'xAI'],
    ] as const
    for (const [value, provider] of cases) {
      const error = errorOf(() => parseApiKey(value))
      expect(error.problems.map((p) => p.code)).toEqual(['other_provider'])
      expect(error.problems[0]?.message).toContain(provider)
    }
    expect(errorOf(() => parseApiKey(cases[0][0])).problems[0]?.message).toContain('holds an Anthropic key')
    expect(errorOf(() => parseApiKey(cases[2][0])).problems[0]?.message).toContain('holds a Groq key')
  })

  it('takes a Secret as input, named by its own name', () => {
    const key = parseApiKey(parseApiKey(project).secret)
    expect(key.fingerprint).toBe('sk-proj…Wq8A')
    expect(parseApiKey(Secret.from(project, 'BATCH_KEY')).name).toBe('BATCH_KEY')
    expect(parseApiKey(Secret.from(project)).name).toBe('OPENAI_API_KEY')
  })

  describe('in a browser', () => {
    const scope = globalThis as { window?: unknown; document?: unknown }
    afterEach(() => {
      delete scope.window
      delete scope.document
    })

    it('throws key.in_browser unless explicitly allowed', () => {
      scope.window = {}
      scope.document = {}
      expect(errorOf(() => parseApiKey(project)).code).toBe('key.in_browser')
      expect(parseApiKey(project, { dangerouslyAllowBrowser: true }).kind).toBe('project')
    })
  })
})
