import { execFile } from 'node:child_process'
import { Console } from 'node:console'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { format, inspect, promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { loadKeys } from './load-keys'

// A fake key shaped like a real one: it must not show in any message, JSON, inspect or console output.
const canaryBody = 'CANARYq1W2e3R4t5Y6u7I8o9P0aSdFgHjKlZxCvBnM_-FAKEk3yX0123456789abcdefXyZ7'
const canary = `sk-proj-${canaryBody}`
const needles = [canary, canaryBody, canaryBody.slice(0, 24), canaryBody.slice(20, 44)]

const dir = mkdtempSync(path.join(tmpdir(), 'keyguard-canary-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, text: string) => {
  const full = path.join(dir, name)
  writeFileSync(full, text)
  return full
}

function viewsOf(value: unknown): string[] {
  let text = ''
  const sink = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk)
      done()
    },
  })
  const console = new Console({ stdout: sink, stderr: sink })
  console.log(value)
  console.error('%s %o', value, value)
  const views = [text, inspect(value, { depth: null, showHidden: true }), format('%j', value), String(value)]
  if (value instanceof Error) views.push(value.message, value.stack ?? '', JSON.stringify(value))
  else views.push(JSON.stringify(value) ?? '')
  return views
}

const expectClean = (label: string, views: readonly string[]) => {
  for (const view of views) for (const needle of needles) expect(view, label).not.toContain(needle)
}

const catchError = (run: () => unknown): unknown => {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error(`expected an error`)
}

describe('the canary key', () => {
  it('never appears in a loadKeys error, from any source', () => {
    const cases: [string, Parameters<typeof loadKeys>[0]][] = [
      ['quoted env', { env: { OPENAI_API_KEY: `"${canary}"` } }],
      ['bearer env', { env: { OPENAI_API_KEY: `Bearer ${canary}` } }],
      ['admin key', { env: { OPENAI_API_KEY: `sk-admin-${canaryBody}` } }],
      ['named key', { env: { KEYGUARD_KEY_BATCH: ` ${canary}\n` } }],
      ['both set', { env: { OPENAI_API_KEY: canary, OPENAI_API_KEY_FILE: file('k', canary) } }],
      ['file with quotes', { env: { OPENAI_API_KEY_FILE: file('q', `'${canary}'\n`) } }],
      ['.env quoted', { env: {}, envFile: file('.env.quoted', `OPENAI_API_KEY='"${canary}"'\n`) }],
      ['key in the url', { env: { OPENAI_API_KEY: canary, OPENAI_BASE_URL: `ftp://x/?key=${canary}` } }],
      [
        'key as org id',
        { env: { OPENAI_API_KEY: canary, OPENAI_ORG_ID: canary, OPENAI_PROJECT_ID: canary } },
      ],
    ]
    for (const [label, options] of cases)
      expectClean(label, viewsOf(catchError(() => loadKeys({ cwd: dir, ...options }))))
  })

  it('never appears when loaded keys are printed', () => {
    const loaded = loadKeys({
      env: { OPENAI_API_KEY: canary, KEYGUARD_KEY_LEGACY: `sk-${canaryBody}` },
      cwd: dir,
    })
    expectClean('loaded', [...viewsOf(loaded), ...viewsOf({ ...loaded.apiKey }), ...viewsOf(loaded.warnings)])
  })

  it('never appears on stdout or stderr when @keyguard/node/load fails at boot', async () => {
    const load = fileURLToPath(new URL('../dist/load.js', import.meta.url))
    for (const env of [{ OPENAI_API_KEY: `"${canary}"` }, { OPENAI_API_KEY: `sk-admin-${canaryBody}` }]) {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ['-e', `import(${JSON.stringify(load)})`],
        {
          env: { PATH: process.env.PATH ?? '', ...env },
          cwd: dir,
        },
      ).catch((error: { stdout: string; stderr: string }) => error)
      expect(stderr).toContain('KeyguardError')
      expectClean('boot', [stdout, stderr])
    }
  })
})
