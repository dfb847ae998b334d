import { checkOptions } from '../config/check-options'
import { KeyguardError, type KeyguardProblem } from '../errors/keyguard-error'
import { Secret } from '../secrets/secret'
import { type ApiKeyKind, apiKeyKind, keyFingerprint } from './key-fingerprint'

/** A parsed, checked OpenAI key. Printing it shows the fingerprint and `<redacted:NAME>`, never the value. */
export interface ApiKey {
  readonly kind: ApiKeyKind
  /** Kind prefix and last 4 characters, such as `sk-proj…Wq8A`. */
  readonly fingerprint: string
  readonly secret: Secret
  /** Where the key came from, such as `OPENAI_API_KEY from process.env`. */
  readonly source: string | undefined
  /** The key's name, such as the variable it came from. @default 'OPENAI_API_KEY' */
  readonly name: string
  /** Problems that do not stop the key from working (a legacy user key, a key of unknown kind). */
  readonly warnings: readonly KeyguardProblem[]
}

/** Options for {@link parseApiKey}. */
export interface ParseApiKeyOptions {
  /** The key's name in messages and on its {@link Secret}. @default 'OPENAI_API_KEY' */
  name?: string
  /** Where the value came from, for messages and provenance. */
  source?: string
  /** Accept a key without an OpenAI prefix, such as a gateway's key. @default false */
  allowUnknown?: boolean
  /** What the key is for: an admin key (`sk-admin-`) only works for admin APIs. @default 'inference' */
  purpose?: 'inference' | 'admin'
  /**
   * Allow a key to be parsed where `window` and `document` exist. A key in a browser is readable by
   * anyone who opens the page, as with openai-node's `dangerouslyAllowBrowser`. @default false
   */
  dangerouslyAllowBrowser?: boolean
}

const parseOptionKeys = [
  'name',
  'source',
  'allowUnknown',
  'purpose',
  'dangerouslyAllowBrowser',
] as const satisfies readonly (keyof ParseApiKeyOptions)[]

const otherProviders: readonly (readonly [string, string])[] = [
  ['sk-ant-', 'Anthropic'],
  ['sk-or-', 'OpenRouter'],
  ['gsk_', 'Groq'],
  ['AIza', 'Google (Gemini / Google Cloud)'],
  ['xai-', 'xAI'],
  ['pplx-', 'Perplexity'],
  ['csk-', 'Cerebras'],
  ['hf_', 'Hugging Face'],
  ['r8_', 'Replicate'],
  ['sk_live_', 'Stripe'],
  ['sk_test_', 'Stripe'],
  ['rk_live_', 'Stripe'],
  ['ghp_', 'GitHub'],
  ['github_pat_', 'GitHub'],
  ['AKIA', 'AWS'],
  ['xoxb-', 'Slack'],
  ['xoxp-', 'Slack'],
]

const placeholderWords = new Set([
  'undefined',
  'null',
  'none',
  'nil',
  'changeme',
  'change-me',
  'change_me',
  'todo',
  'fixme',
  'replace-me',
  'replaceme',
  'secret',
  'password',
  'test',
  'example',
  'dummy',
  'placeholder',
  'openai_api_key',
  'api_key',
  'apikey',
])

function isPlaceholder(value: string): boolean {
  const lower = value.toLowerCase()
  if (placeholderWords.has(lower)) return true
  if (
    /^<[^>]*>$/.test(value) ||
    /^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$/.test(value) ||
    /^\{\{[^}]*\}\}$/.test(value)
  )
    return true
  if (/^(?:x+|\.+|…+|\*+|-+|_+)$/i.test(value)) return true
  if (/^sk-(?:proj-|svcacct-|admin-)?(?:x+|\.+|…+|\*+|your\b.*|\.\.\..*|….*|xxx.*|<.*|1234\d*)$/i.test(value))
    return true
  return (
    /\byour[-_ ]?(?:openai[-_ ]?)?(?:api[-_ ]?)?(?:secret[-_ ]?)?key\b/i.test(value) ||
    /\bkey[-_]?here\b/i.test(value)
  )
}

const zeroWidth = /[\u200B-\u200D\u2060\uFEFF]/
// Control characters other than tab and line breaks, which are reported as whitespace.
const control = {
  test: (text: string) => {
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index)
      if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f) return true
    }
    return false
  },
}
const openaiKeyBody = /^[A-Za-z0-9_-]+$/
// OpenAI's shortest keys (legacy user keys) are 51 characters, project keys about 160; lengths change,
// so only a key far shorter than any real one is refused: it was cut off while copying, or made up.
const minimumKeyLength = 40

// "an Anthropic key", "a Groq key".
const article = (provider: string) => (/^(?:[AEIOU]|xAI)/.test(provider) ? 'an' : 'a')

const quotePairs: Readonly<Record<string, string>> = {
  '"': '"',
  "'": "'",
  '`': '`',
  '\u201C': '\u201D',
  '\u2018': '\u2019',
}

function inBrowser(): boolean {
  const scope = globalThis as { window?: unknown; document?: unknown }
  return typeof scope.window !== 'undefined' && typeof scope.document !== 'undefined'
}

/**
 * Check a value that should be an OpenAI API key and return it as an {@link ApiKey}. Every problem
 * found is reported at once, each with a code and a fix, in one {@link KeyguardError}:
 * `key.missing` when there is no value, `key.invalid` otherwise. The value itself never appears
 * in the error. Lengths vary between kinds and over time, so only a key far shorter than any real one
 * (under 40 characters) is rejected for its length.
 *
 * @example
 * ```ts
 * const apiKey = parseApiKey(env.OPENAI_API_KEY, { source: 'OPENAI_API_KEY from env' })
 * apiKey.kind        // 'project'
 * apiKey.fingerprint // 'sk-proj…Wq8A'
 * ```
 */
export function parseApiKey(
  value: string | Secret | undefined | null,
  options: ParseApiKeyOptions = {},
): ApiKey {
  checkOptions('parseApiKey', options, parseOptionKeys)
  const {
    // A Secret's own name, when it has one, names the key in messages.
    name = value instanceof Secret && value.name !== 'secret' ? value.name : 'OPENAI_API_KEY',
    source,
    allowUnknown = false,
    purpose = 'inference',
    dangerouslyAllowBrowser = false,
  } = options
  const where = source === undefined ? name : `${name} (${source})`

  if (!dangerouslyAllowBrowser && inBrowser()) {
    throw new KeyguardError({
      code: 'key.in_browser',
      message: `${where}: an API key was loaded in a browser, where anyone who opens the page can read it.`,
      operatorHint:
        'Keep the key on a server and call OpenAI from there (or through keyguard.fetch on the server). If the page really is trusted, pass dangerouslyAllowBrowser: true.',
      details: { name },
    })
  }

  const raw = value instanceof Secret ? value.reveal() : value
  if (raw === undefined || raw === null || raw === '') {
    throw new KeyguardError({
      code: 'key.missing',
      message: `${where} is not set.`,
      operatorHint: `Set ${name} to a key from https://platform.openai.com/api-keys (a project key starts with sk-proj-).`,
      problems: [
        {
          code: 'missing',
          path: name,
          message: `${name} is not set.`,
          fix: `Set ${name} to a key from https://platform.openai.com/api-keys.`,
        },
      ],
      details: { name },
    })
  }
  if (typeof raw !== 'string') {
    throw new KeyguardError({
      code: 'key.invalid',
      message: `${where} is a ${typeof raw}, not a string.`,
      problems: [
        {
          code: 'not_a_string',
          path: name,
          message: `${name} is a ${typeof raw}.`,
          fix: 'Pass the key as a string.',
        },
      ],
      details: { name },
    })
  }

  const problems: KeyguardProblem[] = []
  const add = (code: string, message: string, fix: string) =>
    problems.push({ code, path: name, message, fix })

  let text = raw
  if (text.trim() === '') {
    add('empty', `${name} holds only whitespace.`, `Set ${name} to the key itself.`)
    return fail(where, name, problems)
  }

  const trimmed = text.trim()
  if (trimmed !== text) {
    const edges = text.slice(0, text.indexOf(trimmed[0]!)) + text.slice(text.lastIndexOf(trimmed.at(-1)!) + 1)
    if (/[\r\n]/.test(edges))
      add(
        'newline',
        `${name} starts or ends with a line break.`,
        'Remove the line break: write the file with `printf %s` (not `echo`) or trim the value where it is read.',
      )
    else add('whitespace', `${name} starts or ends with spaces.`, 'Remove the spaces around the key.')
    text = trimmed
  }

  const closing = quotePairs[text[0] ?? '']
  if (closing !== undefined && text.length >= 2 && text.endsWith(closing)) {
    add(
      'quoted',
      `${name} is wrapped in quotes, which are sent as part of the key.`,
      'Remove the quotes around the value (in a shell or YAML, the quotes must not be inside the value).',
    )
    text = text.slice(1, -1).trim()
  }

  const bearer = /^bearer\s+/i.exec(text)
  if (bearer) {
    add(
      'bearer_prefix',
      `${name} starts with "Bearer ", which belongs in the Authorization header, not in the key.`,
      'Set the key alone; the client adds "Bearer " itself.',
    )
    text = text.slice(bearer[0].length)
  }

  if (isPlaceholder(text)) {
    add(
      'placeholder',
      `${name} holds a placeholder from an example, not a real key.`,
      'Create a key at https://platform.openai.com/api-keys and set it in place of the placeholder.',
    )
    return fail(where, name, problems)
  }

  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    add(
      'url',
      `${name} holds a URL, not a key.`,
      'Put the endpoint in OPENAI_BASE_URL and the key in OPENAI_API_KEY.',
    )
    return fail(where, name, problems)
  }
  if (/^[{[]/.test(text)) {
    add(
      'json',
      `${name} holds a JSON document, not a key.`,
      'Set the key value alone, not the JSON object or file it came in.',
    )
    return fail(where, name, problems)
  }
  const provider = otherProviders.find(([prefix]) => text.startsWith(prefix))
  if (provider) {
    add(
      'other_provider',
      `${name} holds ${article(provider[1])} ${provider[1]} key (it starts with ${provider[0]}), not an OpenAI key.`,
      `Set an OpenAI key here (https://platform.openai.com/api-keys); keep the ${provider[1]} key in its own variable.`,
    )
    return fail(where, name, problems)
  }

  if (zeroWidth.test(text))
    add(
      'invisible_characters',
      `${name} contains invisible characters (zero-width space or byte-order mark), usually from copying out of a document.`,
      'Copy the key again from the dashboard, or retype it in a plain-text editor.',
    )
  if (control.test(text))
    add('control_characters', `${name} contains control characters.`, 'Copy the key again as plain text.')
  if (/\s/.test(text))
    add(
      'inner_whitespace',
      `${name} has whitespace or a line break inside it, as when a long key wraps while copying.`,
      'Join the key into one line with no spaces.',
    )

  const kind = apiKeyKind(text)
  const warnings: KeyguardProblem[] = []
  if (kind === 'unknown') {
    if (!allowUnknown)
      add(
        'not_openai_key',
        `${name} does not start with sk- like an OpenAI key.`,
        'Set an OpenAI key (https://platform.openai.com/api-keys), or pass allowUnknown: true for a gateway key.',
      )
    else
      warnings.push({
        code: 'unknown_kind',
        path: name,
        message: `${name} is not an OpenAI key; it is used as given (allowUnknown).`,
        fix: 'Nothing to do if this is a gateway key.',
      })
  } else if (!zeroWidth.test(text) && !control.test(text) && !/\s/.test(text) && !openaiKeyBody.test(text)) {
    add(
      'invalid_characters',
      `${name} contains characters that never appear in an OpenAI key (only letters, digits, - and _ do).`,
      'Copy the key again from https://platform.openai.com/api-keys.',
    )
  }
  if (kind !== 'unknown' && text.length < minimumKeyLength)
    add(
      'too_short',
      `${name} is ${text.length} characters long, too short to be an OpenAI key (they are 51 or more): it looks cut off.`,
      'Copy the whole key again from https://platform.openai.com/api-keys.',
    )
  if (kind === 'admin' && purpose === 'inference')
    add(
      'admin_key_for_inference',
      `${name} is an admin key (sk-admin-), which works only for the Administration API, not for models.`,
      'Create a project key (sk-proj-) at https://platform.openai.com/api-keys for inference; keep the admin key for admin tasks.',
    )
  if (purpose === 'admin' && kind !== 'admin' && kind !== 'unknown')
    add(
      'not_admin_key',
      `${name} is a ${kind} key; the Administration API needs an admin key (sk-admin-).`,
      'Create an admin key at https://platform.openai.com/settings/organization/admin-keys.',
    )
  if (kind === 'legacy-user')
    warnings.push({
      code: 'legacy_user_key',
      path: name,
      message: `${name} is a legacy user key, tied to a person rather than a project.`,
      fix: 'Prefer a project key (sk-proj-) or a service account key (sk-svcacct-), which can be scoped and rotated per project.',
    })

  if (problems.length > 0) return fail(where, name, problems)

  return Object.freeze({
    kind,
    fingerprint: keyFingerprint(text),
    secret: Secret.from(text, name),
    source,
    name,
    warnings: Object.freeze(warnings),
  })
}

function fail(where: string, name: string, problems: readonly KeyguardProblem[]): never {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`
  const list = problems.map((problem) => `- ${problem.message} Fix: ${problem.fix}`).join('\n')
  throw new KeyguardError({
    code: 'key.invalid',
    message: `${where} is not a usable OpenAI API key (${count}):\n${list}`,
    operatorHint: problems.map((problem) => problem.fix).join(' '),
    problems,
    details: { name },
  })
}
