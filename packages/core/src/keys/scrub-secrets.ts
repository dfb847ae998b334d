import { Secret } from './secret'

// Every pattern here is a literal followed by single character-class runs, so the regex engine never
// backtracks more than a bounded distance: scrubbing is linear in the text (property-tested on 1 MB).
const keyChars = 'A-Za-z0-9_\\-'
// Anything shaped like an OpenAI key, or OpenAI's own echo of one in a 401 message
// (`sk-proj-********…Wq8A`): `sk-` then a run of key characters and stars.
const keyShape = new RegExp(`(?<![${keyChars}])sk-[${keyChars}*]{16,}`, 'g')
// Authorization-style header values, in HTTP, JSON, curl or util.inspect form: first those with a scheme
// (`Bearer …`), then those without. String replacements, not callbacks: V8 replaces many matches
// far faster that way.
const headerName = `((?:authorization|proxy-authorization|x-api-key|api-key)["']?[ \\t]*(?:=>|[:=])[ \\t]*["']?)`
const headerWithScheme = new RegExp(`${headerName}(bearer|basic|token)[ \\t]+[^\\s"',;})\\]]+`, 'gi')
const headerWithoutScheme = new RegExp(
  `${headerName}(?!(?:bearer|basic|token)[ \\t]|<redacted|>)[^\\s"',;})\\]]+`,
  'gi',
)

/**
 * What a scrubbed value without a name is replaced with (a {@link Secret} shows `<redacted:NAME>`).
 *
 * @example
 * ```ts
 * scrubSecrets('token hunter22', ['hunter22']) === `token ${redactedMark}` // true
 * ```
 */
export const redactedMark = '<redacted>'

// Values this short cannot be told apart from ordinary text; scrubbing them would garble output.
const minSecretLength = 6

function looksLikeKey(match: string): boolean {
  // A run of dashes and lowercase words (`sk-learn-…`) is not a key: keys mix digits or cases, and
  // OpenAI's echo has stars.
  return /[0-9*]/.test(match) || (/[a-z]/.test(match) && /[A-Z]/.test(match))
}

/**
 * Remove secrets from text before it is logged or shown: the known values given (as
 * `<redacted:NAME>` for a {@link Secret}), anything shaped like an OpenAI key, OpenAI's echo of a
 * key in 401 messages (`sk-proj-****…Wq8A`), and `Authorization` header values. Runs in linear time.
 * Known values shorter than 6 characters are left alone: they cannot be told apart from text.
 *
 * @example
 * ```ts
 * logger.error(scrubSecrets(String(error), [apiKey.secret]))
 * ```
 */
export function scrubSecrets(text: string, secrets: Iterable<Secret | string> = []): string {
  let result = String(text)
  const known: { value: string; mark: string }[] = []
  for (const secret of secrets) {
    const value = secret instanceof Secret ? secret.reveal() : secret
    if (typeof value !== 'string' || value.length < minSecretLength) continue
    known.push({ value, mark: secret instanceof Secret ? String(secret) : redactedMark })
  }
  // Longest first, so a secret that contains another is removed whole.
  known.sort((a, b) => b.value.length - a.value.length)
  for (const { value, mark } of known) if (result.includes(value)) result = result.split(value).join(mark)
  result = result.replace(keyShape, (match) => (looksLikeKey(match) ? redactedMark : match))
  result = result.replace(headerWithScheme, `$1$2 ${redactedMark}`)
  result = result.replace(headerWithoutScheme, `$1${redactedMark}`)
  return result
}
