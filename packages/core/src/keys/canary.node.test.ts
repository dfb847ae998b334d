import { Console } from 'node:console'
import { Writable } from 'node:stream'
import { format, inspect } from 'node:util'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { toProblemJson } from '../errors/problem-json'
import { scrubSecrets } from '../secrets/scrub-secrets'
import { Secret } from '../secrets/secret'
import { createKeyRing } from './create-key-ring'
import { keyFingerprint, keyId } from './key-fingerprint'
import { type ParseApiKeyOptions, parseApiKey } from './parse-api-key'

// A fake key shaped like a real project key. If any view below contains it, or its distinctive body, the
// invariant "the key never leaves" is broken.
const canaryBody = 'CANARYq1W2e3R4t5Y6u7I8o9P0aSdFgHjKlZxCvBnM_-FAKEk3yX0123456789abcdefXyZ7'
const canary = `sk-proj-${canaryBody}`
const needles = [canary, canaryBody, canaryBody.slice(0, 24), canaryBody.slice(20, 44)]

function collect(): { console: Console; output: () => string } {
  let text = ''
  const sink = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk)
      done()
    },
  })
  return { console: new Console({ stdout: sink, stderr: sink }), output: () => text }
}

function expectClean(label: string, views: readonly string[]) {
  for (const view of views) for (const needle of needles) expect(view, label).not.toContain(needle)
}

function viewsOf(value: unknown): string[] {
  const { console, output } = collect()
  console.log(value)
  console.error('failed: %s %o', value, value)
  console.dir(value, { depth: null })
  console.table([value])
  const views = [
    output(),
    inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true, getters: true }),
    format('%s %j %O', value, value, value),
    JSON.stringify(value) ?? '',
    String(value),
  ]
  if (value instanceof Error) {
    views.push(value.message, value.stack ?? '', String(value.cause ?? ''))
    if ('toJSON' in value) views.push(JSON.stringify(value))
  }
  return views
}

const catchError = (run: () => unknown): unknown => {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error('expected an error')
}

const badInputs: readonly (readonly [string, string, ParseApiKeyOptions?])[] = [
  ['quoted', `"${canary}"`],
  ['single-quoted and padded', ` '${canary}' `],
  ['trailing newline', `${canary}\n`],
  ['bearer', `Bearer ${canary}`],
  ['every shape problem', `  "Bearer ${canary}"\r\n`],
  ['wrapped', `${canary.slice(0, 30)}\n${canary.slice(30)}`],
  ['zero-width', `${canary}\u200B`],
  ['bad character', `${canary}é`],
  ['url', `https://api.openai.com/v1?key=${canary}`],
  ['json', `{"OPENAI_API_KEY":"${canary}"}`],
  ['admin for inference', `sk-admin-${canaryBody}`],
  ['project for admin', canary, { purpose: 'admin' }],
  ['unknown kind', canaryBody],
  ['other provider', `sk-ant-${canaryBody}`],
  ['control character', `${canary}\u0007`],
]

describe('the canary key', () => {
  it('never appears in a parse error, however the key is malformed', () => {
    for (const [label, value, options] of badInputs) {
      const error = catchError(() => parseApiKey(value, options))
      expectClean(label, viewsOf(error))
      expectClean(`${label} (problem json)`, [JSON.stringify(toProblemJson(error as never))])
    }
  })

  it('never appears in a key ring error or a browser error', () => {
    const error = catchError(() => createKeyRing({ default: `"${canary}"`, batch: `Bearer ${canary}` }))
    expectClean('ring', viewsOf(error))
    const scope = globalThis as { window?: unknown; document?: unknown }
    scope.window = {}
    scope.document = {}
    try {
      expectClean('browser', viewsOf(catchError(() => parseApiKey(canary))))
    } finally {
      delete scope.window
      delete scope.document
    }
  })

  it('never appears when a parsed key, its secret, its warnings or a ring is printed', async () => {
    const apiKey = parseApiKey(canary, { source: 'test' })
    const legacy = parseApiKey(`sk-${canaryBody}`)
    const unknown = parseApiKey(canaryBody, { allowUnknown: true })
    const ring = createKeyRing({ default: canary, batch: { value: canary, labels: { team: 'x' } } })
    for (const value of [
      apiKey,
      apiKey.secret,
      { ...apiKey },
      { ...apiKey.secret },
      Object.entries(apiKey),
      legacy,
      legacy.warnings,
      unknown,
      ring,
      ring.get('batch'),
      ring.secrets(),
      Secret.from(canary, 'OPENAI_API_KEY'),
      keyFingerprint(canary),
      await keyId(canary),
    ])
      expectClean('printed', viewsOf(value))
    expectClean('template', [`${apiKey.secret}`, `key=${ring.get().secret}`])
  })

  it('never appears in a structured logger (pino), as a field, a nested object or an error', () => {
    let lines = ''
    const logger = pino(
      { level: 'trace' },
      {
        write: (line: string) => {
          lines += line
        },
      },
    )
    const apiKey = parseApiKey(canary)
    logger.info({ apiKey, secret: apiKey.secret, nested: { keys: [apiKey] } }, 'loaded key')
    logger.error({ err: catchError(() => parseApiKey(`"${canary}"`)) }, 'bad key')
    logger.child({ key: apiKey.secret }).warn('child logger')
    expect(lines).toContain('<redacted:OPENAI_API_KEY>')
    expect(lines).toContain('sk-proj…XyZ7')
    expectClean('pino', [lines])
  })

  it('never survives scrubbing, known or not, including OpenAI echoing it in a 401', () => {
    const echo = `Incorrect API key provided: sk-proj-${'*'.repeat(140)}${canary.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`
    const texts = [
      `request failed with key ${canary}`,
      `{"headers":{"Authorization":"Bearer ${canary}"}}`,
      `curl -H "Authorization: Bearer ${canary}" https://api.openai.com/v1/models`,
      inspect(new Headers({ authorization: `Bearer ${canary}` })),
      echo,
    ]
    for (const text of texts) {
      expectClean('scrub unknown', [scrubSecrets(text)])
      expectClean('scrub known', [scrubSecrets(text, [Secret.from(canary)])])
    }
    expect(scrubSecrets(echo)).not.toMatch(/\*{4}/)
  })
})
