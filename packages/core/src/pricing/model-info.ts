import { KeyguardError } from '../errors/keyguard-error'
import {
  halve,
  type ModelKind,
  type PriceRow,
  type PriceTable,
  type Rates,
  type TokenizerEncoding,
} from './define-prices'
import { openaiPrices } from './openai-prices'

/** A model id resolved against a price table, with the prices in force at a date. */
export interface ModelInfo {
  /** The table entry the id resolved to, such as `gpt-4o` for `gpt-4o-2024-08-06`. */
  id: string
  /**
   * The identity of what is billed: the table entry, prefixed `ft:` for a fine-tuned id priced at its base
   * model's fine-tuned rates. Model-scoped limits key on it, so every alias and snapshot of one price row
   * shares one budget.
   */
  pricedAs: string
  /** The id as requested. */
  requested: string
  family: string
  kind: ModelKind
  contextWindow: number
  maxOutputTokens: number
  encoding: TokenizerEncoding
  /** True for an `ft:` id priced at its base model's fine-tuned rates. */
  fineTuned: boolean
  /** The price row in force (integer nano-USD per 1M tokens). */
  prices: PriceRow
  /** The table's version. */
  asOf: string
}

// Exact ids and aliases only. A dated snapshot is not priced as its family by stripping the date: snapshots
// of one family have had different prices (gpt-4o-2024-05-13, gpt-3.5-turbo-0613), so each is in the table
// as its own row or as an alias of the row it is billed at, and any other id is refused.
function lookup(table: PriceTable, model: string): string | undefined {
  let id = model
  for (let hops = 0; hops < 8; hops++) {
    if (table.models.has(id)) return id
    const target = table.aliases.get(id)
    if (target === undefined) return undefined
    id = target
  }
  return undefined
}

function unknownModel(model: string, table: PriceTable): KeyguardError {
  return new KeyguardError({
    code: 'estimate.unknown_model',
    message: `No price for model "${model}" in the price table (asOf ${table.asOf}).`,
    operatorHint: `Add "${model}" with definePrices({ models: { ... } }, { extends: openaiPrices }) or alias it to a priced model with definePrices({ aliases: { '${model}': 'gpt-4o' } }, { extends: openaiPrices }).`,
    details: { model, asOf: table.asOf },
  })
}

function rowAt(rows: readonly PriceRow[], at: number): PriceRow {
  // Rows are newest first; before the first effective date the oldest row applies.
  for (const row of rows) if (row.effectiveFromMs <= at) return row
  return rows[rows.length - 1] as PriceRow
}

function fineTunedRow(row: PriceRow, rates: Rates): PriceRow {
  const batch = halve(rates)
  return {
    ...row,
    standard: rates,
    batch,
    flex: batch,
    priority: rates,
    fineTuned: rates,
    longContext: undefined,
  }
}

/**
 * Resolves a model id against a price table: exact ids, aliases (the table's dated snapshots and yours),
 * and fine-tuned ids (`ft:gpt-4o-mini:org::id`, priced at the base model's fine-tuned rates). Fails
 * closed: an id it cannot price at its own rate (an unlisted snapshot too) throws `estimate.unknown_model`.
 *
 * @default prices openaiPrices
 * @default at now
 * @example
 * ```ts
 * modelInfo('gpt-4o-2024-08-06').id // 'gpt-4o'
 * modelInfo('o3', openaiPrices, new Date('2025-05-01')).prices.standard.input // 10_000_000_000 (nanos per 1M)
 * ```
 */
export function modelInfo(
  model: string,
  prices: PriceTable = openaiPrices,
  at: Date = new Date(),
): ModelInfo {
  const atMs = at.getTime()
  let id = typeof model === 'string' && model.length > 0 ? lookup(prices, model) : undefined
  let fineTuned = false
  if (id === undefined && typeof model === 'string' && model.startsWith('ft:')) {
    const base = model.split(':')[1]
    id = base ? lookup(prices, base) : undefined
    fineTuned = true
  }
  const entry = id === undefined ? undefined : prices.models.get(id)
  if (!entry) throw unknownModel(String(model), prices)
  let row = rowAt(entry.rows, atMs)
  if (fineTuned) {
    if (!row.fineTuned) throw unknownModel(model, prices)
    row = fineTunedRow(row, row.fineTuned)
  }
  return {
    id: entry.id,
    pricedAs: fineTuned ? `ft:${entry.id}` : entry.id,
    requested: model,
    family: entry.family,
    kind: entry.kind,
    contextWindow: entry.contextWindow,
    maxOutputTokens: entry.maxOutputTokens,
    encoding: entry.encoding,
    fineTuned,
    prices: row,
    asOf: prices.asOf,
  }
}
