import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import {
  estimateRequest,
  formatUsd,
  isKeyguardError,
  openaiPrices,
  type RequestEstimate,
} from '@keyguard/core'
import { Command, InvalidArgumentError } from 'commander'
import type { CliContext } from './context'
import { formatTable } from './format-table'
import { suggest } from './suggest'

const endpoints = {
  chat: '/v1/chat/completions',
  responses: '/v1/responses',
  embeddings: '/v1/embeddings',
} as const
type Endpoint = (typeof endpoints)[keyof typeof endpoints]

function parseEndpoint(value: string): Endpoint {
  const path = (endpoints as Record<string, Endpoint>)[value] ?? value
  if (Object.values(endpoints).includes(path as Endpoint)) return path as Endpoint
  throw new InvalidArgumentError(
    `use one of ${Object.keys(endpoints).join(', ')} or their paths (${Object.values(endpoints).join(', ')}).`,
  )
}

function parseModels(value: string): string[] {
  const models = value
    .split(',')
    .map((model) => model.trim())
    .filter(Boolean)
  if (models.length === 0)
    throw new InvalidArgumentError('give at least one model, such as gpt-5-mini,gpt-4.1.')
  return models
}

/** Which API a body is for, from its shape: `messages` is chat, `input` to an embedding model is embeddings. */
function inferEndpoint(body: Record<string, unknown>, model: string | undefined): Endpoint {
  if ('messages' in body) return endpoints.chat
  if (model !== undefined && /embedding/i.test(model)) return endpoints.embeddings
  return endpoints.responses
}

/** One row of `keyguard estimate --json`. */
export interface EstimateRow {
  model: string
  inputTokens: number
  maxOutputTokens: number
  minCostNanos: number
  maxCostNanos: number
  minCost: string
  maxCost: string
  exact: boolean
}

/** Estimates what a request body costs before it is sent, for its own model or several. */
export function estimateCommand(context: CliContext): Command {
  const command = new Command('estimate')
    .description(
      'Estimate tokens and cost of a request body (chat completions, responses or embeddings JSON).',
    )
    .argument('[file]', 'the request body as JSON; omit it or pass - to read stdin')
    .option('--models <list>', 'compare models side by side: gpt-5-mini,gpt-4.1,o4-mini', parseModels)
    .option(
      '--endpoint <name>',
      'chat, responses or embeddings (default: inferred from the body)',
      parseEndpoint,
    )
    .option(
      '--max-output <tokens>',
      'output bound when the body sets no max_tokens (default: the model cap)',
      (value) => {
        const tokens = Number(value)
        if (!Number.isSafeInteger(tokens) || tokens <= 0)
          throw new InvalidArgumentError('a positive whole number.')
        return tokens
      },
    )
    .option('--json', 'print one JSON object instead of a table')
    .addHelpText(
      'after',
      `
The cost range: min = every cacheable input token cached and no output; max = uncached input plus the
whole output bound. Text token counts are exact; tools and images are approximate.

Examples:
  $ keyguard estimate request.json
  $ cat request.json | keyguard estimate --models gpt-5-mini,gpt-4.1,o4-mini
  $ keyguard estimate request.json --json`,
    )
    .action(
      async (
        file: string | undefined,
        options: { models?: string[]; endpoint?: Endpoint; maxOutput?: number; json?: boolean },
      ) => {
        const usage = (message: string): never =>
          command.error(`error: ${message}`, { exitCode: 2, code: 'keyguard.usage' })

        let text: string | undefined
        const from = file === undefined || file === '-' ? 'stdin' : file
        if (from === 'stdin') {
          text = await context.readStdin()
          if (text === undefined || text.trim() === '')
            usage('pass a request body as FILE or pipe it on stdin.')
        } else {
          try {
            text = await readFile(resolve(context.cwd, from), 'utf8')
          } catch (error) {
            usage(
              `cannot read ${from}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
            )
          }
        }
        // Input the command cannot read is a usage error (exit 2), as is a missing file.
        let body: unknown
        try {
          body = JSON.parse(text as string)
        } catch (error) {
          usage(`${from} is not valid JSON: ${(error as Error).message}`)
        }
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          usage(
            `${from} is not a request body: expected a JSON object such as {"model": "gpt-5-mini", "messages": [...]}.`,
          )
        }
        const request = body as Record<string, unknown>
        const ownModel = typeof request.model === 'string' ? request.model : undefined
        const models = options.models ?? (ownModel === undefined ? [] : [ownModel])
        if (models.length === 0)
          usage(`the request in ${from} names no model: add "model" to the body or pass --models gpt-5-mini.`)
        const endpoint = options.endpoint ?? inferEndpoint(request, models[0])

        const rows: EstimateRow[] = []
        const errors: { model: string; code: string; message: string; hint: string }[] = []
        for (const model of models) {
          try {
            const estimate: RequestEstimate | null = await estimateRequest(
              endpoint,
              { ...request, model },
              options.maxOutput === undefined ? {} : { defaultMaxOutputTokens: options.maxOutput },
            )
            if (estimate === null) {
              errors.push({
                model,
                code: 'estimate.unsupported',
                message: `${endpoint} is not priced.`,
                hint: '',
              })
              continue
            }
            rows.push({
              model,
              inputTokens: estimate.inputTokens,
              maxOutputTokens: estimate.maxOutputTokens,
              minCostNanos: estimate.minCostNanos,
              maxCostNanos: estimate.maxCostNanos,
              minCost: formatUsd(estimate.minCostNanos),
              maxCost: formatUsd(estimate.maxCostNanos),
              exact: estimate.exact,
            })
          } catch (error) {
            if (!isKeyguardError(error)) throw error
            const nearest =
              error.code === 'estimate.unknown_model'
                ? suggest(model, [...openaiPrices.models.keys()])
                : undefined
            const suggestion = nearest === undefined ? '' : `Did you mean ${nearest}?`
            errors.push({
              model,
              code: error.code,
              message: error.message,
              hint: suggestion || error.operatorHint,
            })
          }
        }
        if (errors.length > 0) context.fail(1)

        if (options.json) {
          context.stdout(
            `${JSON.stringify({ endpoint, asOf: openaiPrices.asOf, estimates: rows, errors }, null, 2)}\n`,
          )
          return
        }
        const { bold, dim, red } = context.colors
        if (rows.length > 0) {
          context.stdout(
            `${bold(`Estimate for POST ${endpoint}`)} ${dim(`(prices asOf ${openaiPrices.asOf})`)}\n\n`,
          )
          const count = (tokens: number, exact: boolean) =>
            `${exact ? '' : '~'}${tokens.toLocaleString('en-US')}`
          context.stdout(
            formatTable(
              [
                ['model', 'input tokens', 'output bound', 'min cost', 'max cost'].map((h) => dim(h)),
                ...rows.map((row) => [
                  row.model,
                  count(row.inputTokens, row.exact),
                  row.maxOutputTokens.toLocaleString('en-US'),
                  row.minCost,
                  row.maxCost,
                ]),
              ],
              { align: ['left', 'right', 'right', 'right', 'right'] },
            ),
          )
          if (rows.some((row) => !row.exact))
            context.stdout(dim('\n  ~ approximate: the body has tools or images.\n'))
        }
        for (const error of errors) {
          context.stderr(
            `${red(`error: ${error.model}: ${error.message}`)}\n${error.hint ? `${error.hint}\n` : ''}`,
          )
        }
      },
    )
  return command
}
