import {
  type ApiKey,
  isKeyguardError,
  type KeyguardProblem,
  type KeyStatus,
  type UpstreamRateLimits,
  verifyApiKey,
} from '@keyguard/core'
import { Command, InvalidArgumentError, Option } from 'commander'
import yoctoSpinner from 'yocto-spinner'
import { loadKeysFrom } from '../load-keys'
import type { CliContext } from './context'
import { formatTable } from './format-table'

const defaultBaseUrl = 'https://api.openai.com/v1'

/** One problem `keyguard doctor` found, with where it is and the fix. */
export interface DoctorProblem {
  code: string
  /** The variable or file the problem is in, such as `OPENAI_API_KEY`. */
  path: string | null
  /** Where its value came from, such as `.env at /app/.env`. */
  source: string | null
  message: string
  fix: string
}

/** What the live check said about one key. */
export interface DoctorLiveCheck {
  ok: boolean
  status: KeyStatus['status']
  /** The error code, such as `quota.insufficient`, when not ok. */
  code: string | null
  message: string | null
  fix: string | null
  modelCount: number | null
  rateLimits: UpstreamRateLimits | null
}

/** One key `keyguard doctor` loaded. Never holds the value: only its fingerprint. */
export interface DoctorKey {
  name: string
  fingerprint: string
  kind: ApiKey['kind']
  source: string | null
  warnings: DoctorProblem[]
  /** `null` with `--offline`. */
  live: DoctorLiveCheck | null
}

/** The one object `keyguard doctor --json` prints. */
export interface DoctorReport {
  ok: boolean
  offline: boolean
  baseUrl: string
  keys: DoctorKey[]
  problems: DoctorProblem[]
}

// loadKeys speaks to code; a CLI user fixes these with a flag, not an option object.
const cliFixes: Readonly<Record<string, (problem: KeyguardProblem) => string>> = {
  not_openai_key: () =>
    'Set an OpenAI key (https://platform.openai.com/api-keys), or run keyguard doctor --allow-unknown for a gateway key.',
}

const toProblem = (problem: KeyguardProblem, source?: string): DoctorProblem => ({
  code: problem.code,
  path: problem.path ?? null,
  source: source ?? null,
  message: problem.message,
  fix: cliFixes[problem.code]?.(problem) ?? problem.fix,
})

const statusLabels: Record<KeyStatus['status'], string> = {
  ok: 'valid',
  invalid: 'invalid key',
  'no-quota': 'no quota (billing)',
  mismatch: 'organization or project mismatch',
  region: 'region not supported',
  ip: 'IP address not allowed',
  unreachable: 'API unreachable',
  error: 'unexpected error',
}

function liveCheck(status: KeyStatus): DoctorLiveCheck {
  return {
    ok: status.ok,
    status: status.status,
    code: status.error?.code ?? null,
    message: status.error?.message ?? null,
    fix: status.error?.operatorHint ?? null,
    modelCount: status.modelCount ?? null,
    rateLimits: status.rateLimits ?? null,
  }
}

const count = (value: number) => value.toLocaleString('en-US')

function describeLimits(limits: UpstreamRateLimits): string {
  const parts: string[] = []
  const part = (limit: number | undefined, remaining: number | undefined, unit: string) => {
    if (limit === undefined) return
    parts.push(`${count(limit)} ${unit}/min${remaining === undefined ? '' : ` (${count(remaining)} left)`}`)
  }
  part(limits.limitRequests, limits.remainingRequests, 'requests')
  part(limits.limitTokens, limits.remainingTokens, 'tokens')
  return parts.join(', ')
}

function parseTimeout(value: string): number {
  const ms = Number(value)
  if (!Number.isSafeInteger(ms) || ms <= 0)
    throw new InvalidArgumentError('a positive number of milliseconds.')
  return ms
}

function parseUrl(value: string): string {
  try {
    return new URL(value).href.replace(/\/$/, '')
  } catch {
    throw new InvalidArgumentError('an absolute URL, such as http://127.0.0.1:8787/v1.')
  }
}

interface DoctorOptions {
  offline?: boolean
  baseUrl?: string
  /** `undefined`: `.env` when present; `false`: none (`--no-dotenv`); else the files named. */
  dotenv?: string[] | false
  envFile?: string[]
  allowUnknown?: boolean
  timeout: number
  quotaCheck: boolean
  json?: boolean
}

/** Checks the keys an app would load, offline and then live against the OpenAI API. */
export function doctorCommand(context: CliContext): Command {
  return (
    new Command('doctor')
      .description(
        'Check every OpenAI key your app would load (env, .env, *_FILE), then check each one live.',
      )
      .option('--offline', 'only check the keys locally; do not call the API')
      .option(
        '--base-url <url>',
        'API base URL to check against (default: OPENAI_BASE_URL or OpenAI)',
        parseUrl,
      )
      .option(
        '--dotenv <path...>',
        'dotenv files to read under the environment, as loadKeys({ envFile }) does (default: .env when present)',
      )
      .option('--no-dotenv', 'read no dotenv file, as loadKeys({ envFile: false }) does')
      // Renamed: Node reads --env-file anywhere on its own command line and exits before keyguard runs.
      .addOption(new Option('--env-file <path...>').hideHelp())
      .option('--allow-unknown', 'accept keys without an OpenAI prefix, such as a gateway key')
      .option(
        '--no-quota-check',
        'skip the one-token call (about $0.00000002) that finds a key without billing',
      )
      .option('--timeout <ms>', 'time limit for each live check', parseTimeout, 10_000)
      .option('--json', 'print one JSON object instead of text')
      .addHelpText(
        'after',
        `
Exit codes: 0 every key is ready, 1 a problem was found, 2 a usage error.

Examples:
  $ keyguard doctor
  $ keyguard doctor --offline --json
  $ keyguard doctor --dotenv .env.production
  $ keyguard doctor --base-url http://127.0.0.1:8787/v1`,
      )
      .action(async (options: DoctorOptions, command: Command) => {
        if (options.envFile !== undefined)
          command.error(
            'error: --env-file is now --dotenv (Node reads --env-file itself): keyguard doctor --dotenv <path...>',
            { exitCode: 2, code: 'keyguard.usage' },
          )
        const report = await diagnose(context, options)
        if (!report.ok) context.fail(1)
        if (options.json) context.stdout(`${JSON.stringify(report, null, 2)}\n`)
        else printReport(context, report)
      })
  )
}

async function diagnose(context: CliContext, options: DoctorOptions): Promise<DoctorReport> {
  const problems: DoctorProblem[] = []
  let keys: ApiKey[] = []
  let organization: string | undefined
  let project: string | undefined
  let envBaseUrl: string | undefined
  try {
    // The CLI's environment is the process environment, and is named so in every source.
    const loaded = loadKeysFrom(
      {
        env: context.env,
        cwd: context.cwd,
        envFile: options.dotenv ?? true,
        allowUnknown: options.allowUnknown === true,
      },
      'process.env',
    )
    keys = Object.values(loaded.keys)
    organization = loaded.organization?.value
    project = loaded.project?.value
    envBaseUrl = loaded.baseUrl?.value
  } catch (error) {
    if (!isKeyguardError(error)) throw error
    const variables = (error.details.variables ?? []) as { name?: string; source?: string }[]
    const sourceOf = (path: string | undefined) =>
      variables.find((variable) => variable.name === path)?.source
    if (error.problems.length === 0) {
      problems.push({
        code: error.code,
        path: null,
        source: null,
        message: error.message,
        fix: error.operatorHint,
      })
    }
    problems.push(...error.problems.map((problem) => toProblem(problem, sourceOf(problem.path))))
  }
  context.addSecrets(keys.map((key) => key.secret))

  const baseUrl = options.baseUrl ?? envBaseUrl ?? defaultBaseUrl
  const report: DoctorReport = {
    ok: true,
    offline: options.offline === true,
    baseUrl,
    problems,
    keys: keys.map((key) => ({
      name: key.name,
      fingerprint: key.fingerprint,
      kind: key.kind,
      source: key.source ?? null,
      warnings: key.warnings.map((warning) => toProblem(warning, key.source)),
      live: null,
    })),
  }

  if (!options.offline && keys.length > 0) {
    const spinner =
      context.interactive && !options.json
        ? yoctoSpinner({
            text: `Checking ${keys.length === 1 ? 'the key' : `${keys.length} keys`} with ${baseUrl}…`,
          }).start()
        : undefined
    try {
      const statuses = await Promise.all(
        keys.map((key) =>
          verifyApiKey(key, {
            baseUrl,
            timeoutMs: options.timeout,
            checkQuota: options.quotaCheck,
            ...(organization === undefined ? {} : { organization }),
            ...(project === undefined ? {} : { project }),
          }),
        ),
      )
      statuses.forEach((status, index) => {
        report.keys[index]!.live = liveCheck(status)
      })
    } finally {
      spinner?.stop()
    }
  }
  report.ok =
    report.problems.length === 0 && report.keys.length > 0 && report.keys.every((key) => key.live?.ok ?? true)
  return report
}

function printReport(context: CliContext, report: DoctorReport): void {
  const { bold, dim, green, red, yellow } = context.colors
  const out = context.stdout
  const fail = red('✖')
  out(
    `${bold('keyguard doctor')} ${dim(report.offline ? '(offline: keys checked locally only)' : `(live: ${report.baseUrl})`)}\n`,
  )

  if (report.keys.length > 0) {
    out(`\n${bold('Keys')}\n`)
    out(
      formatTable([
        ['name', 'fingerprint', 'kind', 'source'].map((heading) => dim(heading)),
        ...report.keys.map((key) => [key.name, key.fingerprint, key.kind, key.source ?? '-']),
      ]),
    )
  }
  if (report.keys.some((key) => key.warnings.length > 0)) out('\n')
  for (const key of report.keys) {
    for (const warning of key.warnings) {
      out(`  ${yellow('!')} ${key.name}: ${warning.message}\n      ${dim('fix:')} ${warning.fix}\n`)
    }
  }

  const checked = report.keys.filter((key) => key.live !== null)
  if (checked.length > 0) {
    out(`\n${bold('Live check')}\n`)
    for (const key of checked) {
      const live = key.live!
      if (live.ok) {
        const details = [
          live.modelCount === null ? '' : `${live.modelCount} models`,
          live.rateLimits === null ? '' : describeLimits(live.rateLimits),
        ].filter(Boolean)
        out(`  ${green('✔')} ${key.name}: ${[statusLabels[live.status], ...details].join(dim(' · '))}\n`)
      } else {
        out(`  ${fail} ${key.name}: ${statusLabels[live.status]}${live.code ? dim(` [${live.code}]`) : ''}\n`)
        if (live.message) out(`      ${live.message}\n`)
        if (live.fix) out(`      ${dim('fix:')} ${live.fix}\n`)
      }
    }
  }

  if (report.problems.length > 0) {
    out(`\n${bold('Problems')}\n`)
    for (const problem of report.problems) {
      const where = problem.source ? dim(` (${problem.source})`) : ''
      out(
        `  ${fail} ${problem.path ? `${problem.path}${where}: ` : ''}${problem.message}\n      ${dim('fix:')} ${problem.fix}\n`,
      )
    }
  }

  const failedLive = checked.filter((key) => !key.live!.ok).length
  const total = report.problems.length + failedLive
  const warnings = report.keys.reduce((sum, key) => sum + key.warnings.length, 0)
  const warned =
    warnings === 0 ? '' : ` ${yellow(`(${warnings === 1 ? '1 warning' : `${warnings} warnings`})`)}`
  if (report.ok) {
    out(
      `\n${green(report.offline ? 'Every key looks right (not checked live).' : 'Every key is ready.')}${warned}\n`,
    )
  } else if (total === 0) out(`\n${red('No key found.')}\n`)
  else out(`\n${red(`${total === 1 ? '1 problem' : `${total} problems`} found.`)}\n`)
}
