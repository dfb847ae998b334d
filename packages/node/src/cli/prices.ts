import { formatUsd, modelInfo, openaiPrices } from '@keyguard/core'
import { Command } from 'commander'
import picomatch from 'picomatch'
import type { CliContext } from './context'
import { formatTable } from './format-table'
import { suggest } from './suggest'

const NANOS_PER_USD = 1_000_000_000

/** One model of `keyguard prices --json`; prices in USD per 1M tokens, at the date the command ran. */
export interface PriceListing {
  model: string
  kind: string
  family: string
  contextWindow: number
  maxOutputTokens: number
  effectiveFrom: string | null
  input: number
  cachedInput: number
  output: number
  batchInput: number
  batchOutput: number
}

/** Whether `pattern` selects `model`: a glob when it has glob characters (`gpt-5*`), else a substring. */
function matcher(pattern: string): (model: string) => boolean {
  if (/[*?[\]{}]/.test(pattern)) {
    const glob = picomatch(pattern, { nocase: true })
    return (model) => glob(model)
  }
  const needle = pattern.toLowerCase()
  return (model) => model.toLowerCase().includes(needle)
}

/** Lists the bundled price table, optionally filtered by `--model`. */
export function pricesCommand(context: CliContext): Command {
  return new Command('prices')
    .description('Show the bundled OpenAI price table (USD per 1M tokens) with its asOf date.')
    .option('-m, --model <pattern>', "only models matching a glob ('gpt-5*') or a substring ('mini')")
    .option('--json', 'print one JSON object instead of a table')
    .addHelpText(
      'after',
      `
Examples:
  $ keyguard prices
  $ keyguard prices --model 'gpt-5*'
  $ keyguard prices --model embedding --json`,
    )
    .action((options: { model?: string; json?: boolean }) => {
      const now = new Date()
      const ids = [...openaiPrices.models.keys()]
      const matches = options.model === undefined ? () => true : matcher(options.model)
      const selected = ids.filter((id) => matches(id))
      if (selected.length === 0) {
        const suggestion = suggest(options.model ?? '', ids)
        context.stderr(
          `${context.colors.red(
            `error: no model in the price table (asOf ${openaiPrices.asOf}) matches '${options.model}'\n`,
          )}${suggestion === undefined ? 'Run keyguard prices to list every model.' : `(Did you mean ${suggestion}?)`}\n`,
        )
        context.fail(1)
        return
      }
      const infos = selected.map((id) => modelInfo(id, openaiPrices, now))
      if (options.json) {
        const models = infos.map(
          (info): PriceListing => ({
            model: info.id,
            kind: info.kind,
            family: info.family,
            contextWindow: info.contextWindow,
            maxOutputTokens: info.maxOutputTokens,
            effectiveFrom: info.prices.effectiveFrom ?? null,
            // Display only: nanos per 1M tokens to dollars per 1M tokens; no arithmetic follows.
            input: info.prices.standard.input / NANOS_PER_USD,
            cachedInput: info.prices.standard.cachedInput / NANOS_PER_USD,
            output: info.prices.standard.output / NANOS_PER_USD,
            batchInput: info.prices.batch.input / NANOS_PER_USD,
            batchOutput: info.prices.batch.output / NANOS_PER_USD,
          }),
        )
        context.stdout(
          `${JSON.stringify({ asOf: openaiPrices.asOf, unit: 'USD per 1M tokens', models }, null, 2)}\n`,
        )
        return
      }
      const { bold, dim } = context.colors
      const money = (nanos: number) => formatUsd(nanos, { digits: 4 })
      const count = (tokens: number) => (tokens === 0 ? '-' : tokens.toLocaleString('en-US'))
      context.stdout(`${bold('OpenAI prices')} ${dim(`asOf ${openaiPrices.asOf}, USD per 1M tokens`)}\n\n`)
      context.stdout(
        formatTable(
          [
            ['model', 'input', 'cached', 'output', 'batch in', 'batch out', 'context', 'max out'].map((h) =>
              dim(h),
            ),
            ...infos.map(({ id, kind, prices, contextWindow, maxOutputTokens }) => {
              const embedding = kind === 'embedding'
              return [
                id,
                money(prices.standard.input),
                embedding ? '-' : money(prices.standard.cachedInput),
                embedding ? '-' : money(prices.standard.output),
                money(prices.batch.input),
                embedding ? '-' : money(prices.batch.output),
                count(contextWindow),
                count(maxOutputTokens),
              ]
            }),
          ],
          { align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'] },
        ),
      )
    })
}
