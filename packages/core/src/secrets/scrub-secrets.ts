import { Secret } from './secret'

// Every header pattern here is a literal followed by single character-class runs, so the regex engine
// never backtracks more than a bounded distance; key shapes are found by a plain scan. Scrubbing is
// linear in the text (property-tested on 1 MB, and `pnpm bench` doubles the input).

/** A character that can be part of a key: `A-Z a-z 0-9 _ -`. */
function isKeyChar(code: number): boolean {
  return (
    (code >= 48 && code <= 57) || // 0-9
    (code >= 65 && code <= 90) || // A-Z
    (code >= 97 && code <= 122) || // a-z
    code === 95 || // _
    code === 45 // -
  )
}

/**
 * Anything shaped like an OpenAI key, or OpenAI's own echo of one in a 401 message
 * (`sk-proj-********…Wq8A`): `sk-` not preceded by a key character, then a run of 16 or more key
 * characters and stars. A scan rather than a regex: V8's greedy loop over a multi-megabyte run
 * (`sk-sk-sk-…`) grows its backtrack stack and stops being linear.
 */
function scrubKeyShapes(text: string): string {
  let at = text.indexOf('sk-')
  if (at === -1) return text
  const parts: string[] = []
  let copiedTo = 0
  while (at !== -1) {
    if (at > 0 && isKeyChar(text.charCodeAt(at - 1))) {
      at = text.indexOf('sk-', at + 1)
      continue
    }
    let end = at + 3
    for (let code = text.charCodeAt(end); isKeyChar(code) || code === 42; code = text.charCodeAt(++end));
    if (end - at - 3 >= 16 && looksLikeKey(text.slice(at, end))) {
      parts.push(text.slice(copiedTo, at), redactedMark)
      copiedTo = end
    }
    // every `sk-` inside the run follows a key character, so the next candidate starts after it
    at = text.indexOf('sk-', end)
  }
  if (copiedTo === 0) return text
  parts.push(text.slice(copiedTo))
  return parts.join('')
}
// Authorization-style header values, in HTTP, JSON, curl or util.inspect form: first those with a scheme
// (`Bearer …`), then those without. String replacements, not callbacks: V8 replaces many matches
// far faster that way.
const headerName = `((?:authorization|proxy-authorization|x-api-key|api-key)["']?[ \\t]*(?:=>|[:=])[ \\t]*["']?)`
const headerWithScheme = /* @__PURE__ */ (() =>
  new RegExp(`${headerName}(bearer|basic|token)[ \\t]+[^\\s"',;})\\]]+`, 'gi'))()
const headerWithoutScheme = /* @__PURE__ */ (() =>
  new RegExp(`${headerName}(?!(?:bearer|basic|token)[ \\t]|<redacted|>)[^\\s"',;})\\]]+`, 'gi'))()

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
  result = scrubKeyShapes(result)
  result = result.replace(headerWithScheme, `$1$2 ${redactedMark}`)
  result = result.replace(headerWithoutScheme, `$1${redactedMark}`)
  return result
}
