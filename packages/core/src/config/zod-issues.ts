import type * as z from 'zod/mini'

// Every message is keyguard's own or the schema's: left to zod, an issue takes zod's global locale,
// which full `zod` installs as soon as any module in the process imports it (an app's own code, the
// AI SDK), so the same options would read differently from one app to the next.

/**
 * @internal An issue in keyguard's words, read after the path (`limit is below the minimum (0)`).
 * Pass it to every parse: `schema.safeParse(value, { error: issueMessage })`; a message the schema
 * gives itself (`z.custom(check, { message })`) is kept.
 */
export function issueMessage(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'too_small':
      return issue.inclusive === false
        ? `is not above ${String(issue.minimum)}`
        : `is below the minimum (${String(issue.minimum)})`
    case 'too_big':
      return issue.inclusive === false
        ? `is not below ${String(issue.maximum)}`
        : `is above the maximum (${String(issue.maximum)})`
    case 'invalid_type':
      return `is not ${article(issue.expected)} ${issue.expected === 'int' ? 'integer' : issue.expected}`
    case 'invalid_value':
      return `is not one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`
    case 'invalid_format':
      return `is not in the expected format (${issue.format === 'regex' ? String(issue.pattern) : issue.format})`
    default:
      return 'is invalid'
  }
}

/** @internal What to do about an issue, when the caller names no fix of its own for the option. */
export function issueFix(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_small':
      return `use a value ${issue.inclusive === false ? 'above' : 'of at least'} ${String(issue.minimum)}`
    case 'too_big':
      return `use a value ${issue.inclusive === false ? 'below' : 'of at most'} ${String(issue.maximum)}`
    case 'invalid_type':
      return `pass ${article(issue.expected)} ${issue.expected === 'int' ? 'integer' : issue.expected}`
    case 'invalid_value':
      return `use one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`
    default:
      return issue.message
  }
}

/** @internal An issue's path as code writes it: `limits[0].scope`. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : index ? `.${String(part)}` : String(part),
    )
    .join('')
}

function article(noun: string): string {
  return /^[aeiou]/.test(noun === 'int' ? 'integer' : noun) ? 'an' : 'a'
}
