import { readFileSync } from 'node:fs'
import path from 'node:path'
import * as util from 'node:util'
import {
  type ApiKey,
  isKeyguardError,
  KeyguardError,
  type KeyguardProblem,
  parseApiKey,
} from '@keyguard/core'
import { parseOptions } from '@keyguard/core/adapter'
import dotenv from 'dotenv'
import * as z from 'zod/mini'

/** Options for {@link loadKeys}. */
export interface LoadKeysOptions {
  /** The environment to read. @default process.env */
  env?: Readonly<Record<string, string | undefined>>
  /**
   * `.env` files to read under the environment: `true` reads `.env` in `cwd` when it exists, `false` reads
   * none, and a path or list of paths must exist. The first file that sets a variable wins, and the
   * environment wins over every file unless `override`. `keyguard doctor` reads the same files by default,
   * so what it reports is what the app loads. @default true
   */
  envFile?: boolean | string | readonly string[]
  /** Let `.env` values win over the environment. @default false */
  override?: boolean
  /** Where relative paths (`.env`, `VAR_FILE`) start. @default process.cwd() */
  cwd?: string
  /** Fail when no key is set (`OPENAI_API_KEY` or a `KEYGUARD_KEY_<LABEL>`). @default true */
  required?: boolean
  /** Accept keys without an OpenAI prefix, such as a gateway's keys. @default false */
  allowUnknown?: boolean
}

/** A plain (non-secret) setting with the place it came from. */
export interface LoadedValue {
  readonly value: string
  /** Such as `process.env`, `.env at /app/.env` or `file /run/secrets/x from OPENAI_PROJECT_ID_FILE`. */
  readonly source: string
  /** The variable it was read from. */
  readonly variable: string
}

/** What {@link loadKeys} found: keys as {@link ApiKey} values (their secrets print redacted), with provenance. */
export interface LoadedKeys {
  /** `OPENAI_API_KEY`, when set. */
  readonly apiKey: ApiKey | undefined
  /** Every key by label: `default` for `OPENAI_API_KEY`, `batch` for `KEYGUARD_KEY_BATCH`. */
  readonly keys: Readonly<Record<string, ApiKey>>
  /** `OPENAI_ORG_ID` (or `OPENAI_ORGANIZATION`). */
  readonly organization: LoadedValue | undefined
  /** `OPENAI_PROJECT_ID`. */
  readonly project: LoadedValue | undefined
  /** `OPENAI_BASE_URL`. */
  readonly baseUrl: LoadedValue | undefined
  /** Problems that do not stop loading, such as a legacy user key. */
  readonly warnings: readonly KeyguardProblem[]
}

interface Raw {
  value: string
  source: string
}

const keyPrefix = 'KEYGUARD_KEY_'
const plainVariables = [
  'OPENAI_ORG_ID',
  'OPENAI_ORGANIZATION',
  'OPENAI_PROJECT_ID',
  'OPENAI_BASE_URL',
] as const

// Node's own parser where present (20.12+), dotenv otherwise: both read the same KEY=value syntax.
const parseEnvText = (text: string): Record<string, string | undefined> =>
  typeof (util as { parseEnv?: unknown }).parseEnv === 'function' ? util.parseEnv(text) : dotenv.parse(text)

const loadKeysOptions = /* @__PURE__ */ (() =>
  z.strictObject({
    // process.env is no plain object (zod's record refuses it): any object whose values are strings
    env: z.optional(
      z.custom<Readonly<Record<string, string | undefined>>>(
        (value) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.values(value).every((item) => item === undefined || typeof item === 'string'),
        { message: 'is not an object of strings' },
      ),
    ),
    envFile: z.optional(
      z.union([z.boolean(), z.string().check(z.minLength(1)), z.array(z.string().check(z.minLength(1)))]),
    ),
    override: z.optional(z.boolean()),
    cwd: z.optional(z.string().check(z.minLength(1))),
    required: z.optional(z.boolean()),
    allowUnknown: z.optional(z.boolean()),
  }))()

/**
 * Load OpenAI keys and settings from the environment, `.env` in the working directory (when present;
 * `envFile: false` turns it off) and `VAR_FILE` secret files (Docker, Kubernetes), check every one, and return them as a frozen object of {@link ApiKey} values
 * with provenance. Every problem of every variable is thrown at once in one `KeyguardError`
 * that names each variable, its source and the fix, never a value. Nothing is printed and
 * `process.env` is not changed.
 *
 * Reads `OPENAI_API_KEY`, `OPENAI_ORG_ID` (or `OPENAI_ORGANIZATION`), `OPENAI_PROJECT_ID`,
 * `OPENAI_BASE_URL` and named keys `KEYGUARD_KEY_<LABEL>`; each also as `<VAR>_FILE`.
 *
 * @example
 * ```ts
 * import { loadKeys } from '@keyguard/node'
 *
 * const { apiKey, keys } = loadKeys() // process.env, then ./.env when present
 * console.log(apiKey?.fingerprint, apiKey?.source) // sk-proj…Wq8A process.env
 * const batchKey = keys.batch // from KEYGUARD_KEY_BATCH
 * ```
 */
export function loadKeys(options: LoadKeysOptions = {}): LoadedKeys {
  return loadKeysFrom(options, options.env === undefined ? 'process.env' : 'the env option')
}

/**
 * {@link loadKeys} with the name its messages give the environment: the CLI passes the process
 * environment in as `env` and still calls it `process.env`.
 */
export function loadKeysFrom(options: LoadKeysOptions, envSource: string): LoadedKeys {
  parseOptions(loadKeysOptions, options, 'loadKeys', {
    fixes: {
      env: 'pass an object of strings such as process.env',
      envFile:
        "pass true (read .env when it exists), false, a path, or a list of paths: ['.env.local', '.env']",
      cwd: 'pass the directory .env files are read from, such as process.cwd()',
    },
  })
  const {
    env = process.env,
    envFile = true,
    override = false,
    cwd = process.cwd(),
    required = true,
    allowUnknown = false,
  } = options
  const problems: KeyguardProblem[] = []
  const sources = new Map<string, string>()
  const problem = (
    variable: string,
    source: string | undefined,
    code: string,
    message: string,
    fix: string,
  ) => {
    problems.push({ code, path: variable, message, fix })
    if (source !== undefined) sources.set(variable, source)
  }

  // Variables from .env files, first file wins; then the environment, which wins unless `override`.
  const fromFiles = new Map<string, Raw>()
  const files =
    envFile === true ? ['.env'] : envFile === false ? [] : typeof envFile === 'string' ? [envFile] : envFile
  for (const file of files) {
    const full = path.resolve(cwd, file)
    let text: string
    try {
      text = readFileSync(full, 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (envFile === true && code === 'ENOENT') continue
      problem(
        file,
        full,
        'env_file_unreadable',
        `The .env file ${full} cannot be read (${code}).`,
        'Create the file or fix the path and its permissions.',
      )
      continue
    }
    for (const [name, value] of Object.entries(parseEnvText(text)))
      if (value !== undefined && !fromFiles.has(name))
        fromFiles.set(name, { value, source: `.env at ${full}` })
  }
  const lookup = (name: string): Raw | undefined => {
    const fromEnv = env[name]
    const inEnv = fromEnv === undefined ? undefined : { value: fromEnv, source: envSource }
    const inFile = fromFiles.get(name)
    return override ? (inFile ?? inEnv) : (inEnv ?? inFile)
  }

  // A variable's value: `VAR`, or the contents of the file `VAR_FILE` names (trailing newline trimmed).
  const read = (name: string): Raw | undefined => {
    const direct = lookup(name)
    const pointer = lookup(`${name}_FILE`)
    if (pointer === undefined || pointer.value === '') return direct
    if (direct !== undefined && direct.value !== '') {
      problem(
        name,
        `${direct.source} and ${pointer.source}`,
        'both_set',
        `${name} and ${name}_FILE are both set, so it is unclear which one to use.`,
        `Unset one of them: ${name}_FILE for a secret file (Docker, Kubernetes), or ${name} for a plain variable.`,
      )
      return undefined
    }
    const full = path.resolve(cwd, pointer.value)
    const source = `file ${full} from ${name}_FILE`
    try {
      const value = readFileSync(full, 'utf8').replace(/(?:\r?\n)+$/, '')
      if (value === '')
        problem(
          name,
          source,
          'empty_file',
          `${name}_FILE names an empty file.`,
          'Write the value into the file, or unset the variable.',
        )
      return value === '' ? undefined : { value, source }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      problem(
        name,
        source,
        'file_unreadable',
        `${name}_FILE names a file that cannot be read (${code}).`,
        `Mount the secret file at that path, or fix ${name}_FILE.`,
      )
      return undefined
    }
  }

  const warnings: KeyguardProblem[] = []
  const keys: Record<string, ApiKey> = {}
  const parseKey = (variable: string, label: string) => {
    const raw = read(variable)
    if (raw === undefined || raw.value === '') return undefined
    try {
      const key = parseApiKey(raw.value, { name: variable, source: raw.source, allowUnknown })
      keys[label] = key
      warnings.push(...key.warnings)
      return key
    } catch (error) {
      if (!isKeyguardError(error)) throw error
      for (const found of error.problems) problem(variable, raw.source, found.code, found.message, found.fix)
      return undefined
    }
  }

  const apiKey = parseKey('OPENAI_API_KEY', 'default')
  const names = new Set([...Object.keys(env), ...fromFiles.keys()])
  for (const name of [...names].sort()) {
    if (!name.startsWith(keyPrefix)) continue
    const variable = name.endsWith('_FILE') ? name.slice(0, -'_FILE'.length) : name
    if (variable !== name && names.has(variable)) continue
    const label = variable.slice(keyPrefix.length).toLowerCase()
    if (!/^[a-z0-9_]+$/.test(label) || label === 'default') {
      problem(
        name,
        undefined,
        'invalid_label',
        `${name} does not name a key label.`,
        `Name it ${keyPrefix}<LABEL> with letters, digits and _ (not DEFAULT: that is OPENAI_API_KEY).`,
      )
      continue
    }
    if (!(label in keys)) parseKey(variable, label)
  }
  const anyKeyProblem = problems.some(
    (found) => found.path === 'OPENAI_API_KEY' || found.path?.startsWith(keyPrefix),
  )
  if (required && Object.keys(keys).length === 0 && !anyKeyProblem) {
    problem(
      'OPENAI_API_KEY',
      envSource,
      'missing',
      'OPENAI_API_KEY is not set (nor OPENAI_API_KEY_FILE or any KEYGUARD_KEY_<LABEL>).',
      'Set OPENAI_API_KEY to a key from https://platform.openai.com/api-keys, in the environment or a .env file.',
    )
  }

  const [orgId, orgAlias, projectId, baseUrlRaw] = plainVariables.map((name) => {
    const raw = read(name)
    return raw === undefined || raw.value === '' ? undefined : { ...raw, variable: name }
  })
  if (orgId && orgAlias && orgId.value !== orgAlias.value)
    problem(
      'OPENAI_ORGANIZATION',
      `${orgId.source} and ${orgAlias.source}`,
      'conflict',
      'OPENAI_ORG_ID and OPENAI_ORGANIZATION are both set, to different organizations.',
      'Keep one of them (OPENAI_ORG_ID), or set both to the same org- id.',
    )
  const organization = orgId ?? orgAlias
  if (organization && !/^org-[A-Za-z0-9]+$/.test(organization.value))
    problem(
      organization.variable,
      organization.source,
      'invalid_organization',
      `${organization.variable} is not an organization id (they look like org-… ).`,
      'Copy the id from https://platform.openai.com/settings/organization/general.',
    )
  if (projectId && !/^proj_[A-Za-z0-9]+$/.test(projectId.value))
    problem(
      'OPENAI_PROJECT_ID',
      projectId.source,
      'invalid_project',
      'OPENAI_PROJECT_ID is not a project id (they look like proj_…).',
      "Copy the id from the project's settings at https://platform.openai.com/settings.",
    )
  if (baseUrlRaw && !isHttpUrl(baseUrlRaw.value))
    problem(
      'OPENAI_BASE_URL',
      baseUrlRaw.source,
      'invalid_url',
      'OPENAI_BASE_URL is not an http(s) URL.',
      'Set it to the API root, such as https://api.openai.com/v1, or unset it.',
    )

  if (problems.length > 0) throw aggregate(problems, sources)
  return Object.freeze({
    apiKey,
    keys: Object.freeze(keys),
    organization: organization && Object.freeze(organization),
    project: projectId && Object.freeze(projectId),
    baseUrl: baseUrlRaw && Object.freeze(baseUrlRaw),
    warnings: Object.freeze(warnings),
  })
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol)
  } catch {
    return false
  }
}

function aggregate(
  problems: readonly KeyguardProblem[],
  sources: ReadonlyMap<string, string>,
): KeyguardError {
  const onlyMissing = problems.every((found) => found.code === 'missing')
  const aboutKeys = problems.some(
    (found) => found.path === 'OPENAI_API_KEY' || found.path?.startsWith(keyPrefix),
  )
  const lines = problems.map((found) => {
    const source = found.path === undefined ? undefined : sources.get(found.path)
    return `- ${found.path}${source ? ` (${source})` : ''}: ${found.message} Fix: ${found.fix}`
  })
  return new KeyguardError({
    code: onlyMissing ? 'key.missing' : aboutKeys ? 'key.invalid' : 'config.invalid',
    message: `keyguard could not load the OpenAI settings (${problems.length === 1 ? '1 problem' : `${problems.length} problems`}):\n${lines.join('\n')}`,
    operatorHint: problems.map((found) => `${found.path}: ${found.fix}`).join(' '),
    problems,
    details: {
      variables: problems.map((found) => ({
        name: found.path,
        source: found.path && sources.get(found.path),
      })),
    },
  })
}
