import * as z from 'zod/mini'
import { closestName } from '../config/closest-name'
import { issueMessage, issuePath } from '../config/zod-issues'
import { KeyguardError, type KeyguardProblem } from '../errors/keyguard-error'

/** Which BPE vocabulary a model uses. */
export type TokenizerEncoding = 'o200k_base' | 'cl100k_base' | 'o200k_harmony'

/** What a model does, which decides how a request to it is priced. */
export type ModelKind = 'chat' | 'embedding'

// USD per 1M tokens, at most 9 decimals (a nano per 1M tokens is the finest unit kept).
const usdPerMillion = /* @__PURE__ */ (() => z.number().check(z.gte(0), z.lte(1e6)))()
const rateFields = /* @__PURE__ */ (() => ({
  input: usdPerMillion,
  cachedInput: z.optional(usdPerMillion),
  cacheWrite: z.optional(usdPerMillion),
  output: z.optional(usdPerMillion),
  audioInput: z.optional(usdPerMillion),
  cachedAudioInput: z.optional(usdPerMillion),
  audioOutput: z.optional(usdPerMillion),
}))()
const rateSchema = /* @__PURE__ */ z.strictObject(rateFields)
const dateSchema = /* @__PURE__ */ (() => z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/)))()
const priceRowSchema = /* @__PURE__ */ (() =>
  z.strictObject({
    ...rateFields,
    /** First day (UTC) these prices apply; absent means "since the model launched". */
    effectiveFrom: z.optional(dateSchema),
    batch: z.optional(rateSchema),
    flex: z.optional(rateSchema),
    priority: z.optional(rateSchema),
    fineTuned: z.optional(rateSchema),
    longContext: z.optional(
      z.strictObject({ ...rateFields, above: z.number().check(z.int(), z.positive()) }),
    ),
  }))()
const modelSchema = /* @__PURE__ */ (() =>
  z.strictObject({
    kind: z.optional(z.enum(['chat', 'embedding'])),
    family: z.optional(z.string()),
    encoding: z.optional(z.enum(['o200k_base', 'cl100k_base', 'o200k_harmony'])),
    contextWindow: z.number().check(z.int(), z.positive()),
    maxOutputTokens: z.number().check(z.int(), z.gte(0)),
    prices: z.array(priceRowSchema).check(z.minLength(1)),
  }))()
const tableSchema = /* @__PURE__ */ (() =>
  z.strictObject({
    asOf: dateSchema,
    models: z.record(z.string().check(z.minLength(1)), modelSchema),
    aliases: z.optional(z.record(z.string().check(z.minLength(1)), z.string().check(z.minLength(1)))),
  }))()

// Every field name a price table may use, for naming the one a misspelt field meant.
const knownFields = /* @__PURE__ */ (() => [
  ...Object.keys(tableSchema.def.shape),
  ...Object.keys(modelSchema.def.shape),
  ...Object.keys(priceRowSchema.def.shape),
  'above',
])()

/** Prices for one billing mode, in USD per 1M tokens. Absent rates fall back as documented in {@link PriceRowInput}. */
export type RatesInput = z.infer<typeof rateSchema>
/**
 * One effective-dated price row, USD per 1M tokens. Fallbacks: `cachedInput` → `input`; `batch` → half of
 * every standard rate; `flex` → the batch rates (OpenAI prices Flex at Batch rates); `priority` →
 * standard; `cachedAudioInput` → `audioInput`; `cacheWrite` → `input`. A `longContext` tier replaces the
 * standard rates for a whole request whose input is over `above` tokens.
 */
export type PriceRowInput = z.infer<typeof priceRowSchema>
/** One model's entry in a price table, as written in data. */
export type ModelPriceInput = z.infer<typeof modelSchema>
/** The data a {@link PriceTable} is built from. */
export interface PriceTableInput {
  /** Version of the table (a date), carried by every estimate and cost. */
  asOf: string
  models: Record<string, ModelPriceInput>
  /** Your names for models (an Azure deployment, a router alias) → a model id in the table. */
  aliases?: Record<string, string>
}

/** Integer nano-USD per 1M tokens for one billing mode. Every field is resolved (no fallbacks left). */
export interface Rates {
  input: number
  cachedInput: number
  cacheWrite: number
  output: number
  audioInput: number
  cachedAudioInput: number
  audioOutput: number
}

/** One price row converted once to integer nano-USD per 1M tokens. */
export interface PriceRow {
  effectiveFrom: string | undefined
  /** ms since epoch of `effectiveFrom` (UTC midnight), -Infinity when absent. */
  effectiveFromMs: number
  standard: Rates
  batch: Rates
  flex: Rates
  priority: Rates
  fineTuned: Rates | undefined
  longContext: (Rates & { above: number }) | undefined
}

/** A model's resolved entry. */
export interface ModelPrices {
  id: string
  kind: ModelKind
  family: string
  encoding: TokenizerEncoding
  contextWindow: number
  maxOutputTokens: number
  /** Newest first. */
  rows: readonly PriceRow[]
}

/** A validated, frozen price table. Build one with {@link definePrices}; the bundled one is `openaiPrices`. */
export interface PriceTable {
  readonly asOf: string
  readonly models: ReadonlyMap<string, ModelPrices>
  readonly aliases: ReadonlyMap<string, string>
}

const NANOS_PER_USD = 1_000_000_000

/** USD per 1M tokens → integer nano-USD per 1M tokens. The only place a price is converted. */
function toNanosPerMillion(value: number, path: string): number {
  const nanos = Math.round(Number(value.toFixed(9)) * NANOS_PER_USD)
  if (Math.abs(nanos - value * NANOS_PER_USD) > 1e-3 * Math.max(1, value)) {
    throw invalid(`${path}: ${value} has more precision than a nano-USD per 1M tokens`)
  }
  return nanos
}

function invalid(message: string, problems?: KeyguardError['problems']): KeyguardError {
  return new KeyguardError({
    code: 'config.invalid',
    message: `Invalid price table: ${message}`,
    operatorHint:
      'Fix the price table passed to definePrices(): prices are USD per 1M tokens, dates YYYY-MM-DD.',
    ...(problems ? { problems } : {}),
  })
}

function resolveRates(input: RatesInput, fallback: Rates | undefined, path: string): Rates {
  const convert = (value: number | undefined, key: keyof Rates, otherwise: number) =>
    value === undefined ? otherwise : toNanosPerMillion(value, `${path}.${key}`)
  const inputRate = toNanosPerMillion(input.input, `${path}.input`)
  const audioInput = convert(input.audioInput, 'audioInput', fallback?.audioInput ?? inputRate)
  return {
    input: inputRate,
    cachedInput: convert(input.cachedInput, 'cachedInput', inputRate),
    cacheWrite: convert(input.cacheWrite, 'cacheWrite', inputRate),
    output: convert(input.output, 'output', fallback?.output ?? 0),
    audioInput,
    cachedAudioInput: convert(input.cachedAudioInput, 'cachedAudioInput', audioInput),
    audioOutput: convert(input.audioOutput, 'audioOutput', fallback?.audioOutput ?? fallback?.output ?? 0),
  }
}

// Half of every rate, rounded up so a batch price is never under-charged by rounding.
export const halve = (rates: Rates): Rates =>
  Object.fromEntries(
    Object.entries(rates).map(([key, value]) => [key, Math.ceil(value / 2)]),
  ) as unknown as Rates

function dateMs(date: string, path: string): number {
  const ms = Date.parse(`${date}T00:00:00Z`)
  if (Number.isNaN(ms)) throw invalid(`${path}: ${date} is not a date`)
  return ms
}

function encodingFor(id: string): TokenizerEncoding {
  if (id.startsWith('gpt-oss')) return 'o200k_harmony'
  if (/^(gpt-4(?!o|\.[1-9])|gpt-3\.5|text-embedding|davinci|babbage)/.test(id)) return 'cl100k_base'
  return 'o200k_base'
}

function resolveModel(id: string, model: ModelPriceInput): ModelPrices {
  const rows = model.prices.map((row, index): PriceRow => {
    const path = `models.${id}.prices[${index}]`
    const standard = resolveRates(row, undefined, path)
    const batch = row.batch ? resolveRates(row.batch, standard, `${path}.batch`) : halve(standard)
    return {
      effectiveFrom: row.effectiveFrom,
      effectiveFromMs: row.effectiveFrom ? dateMs(row.effectiveFrom, `${path}.effectiveFrom`) : -Infinity,
      standard,
      batch,
      flex: row.flex ? resolveRates(row.flex, standard, `${path}.flex`) : batch,
      priority: row.priority ? resolveRates(row.priority, standard, `${path}.priority`) : standard,
      fineTuned: row.fineTuned ? resolveRates(row.fineTuned, undefined, `${path}.fineTuned`) : undefined,
      longContext: row.longContext
        ? { ...resolveRates(row.longContext, standard, `${path}.longContext`), above: row.longContext.above }
        : undefined,
    }
  })
  rows.sort((a, b) => b.effectiveFromMs - a.effectiveFromMs)
  return {
    id,
    kind: model.kind ?? (id.startsWith('text-embedding') ? 'embedding' : 'chat'),
    family: model.family ?? id,
    encoding: model.encoding ?? encodingFor(id),
    contextWindow: model.contextWindow,
    maxOutputTokens: model.maxOutputTokens,
    rows,
  }
}

/**
 * Builds a validated, frozen price table from USD-per-1M-token data, optionally on top of another table
 * (models and aliases you give replace the base's entries of the same id). Use it for negotiated rates,
 * fine-tuned or custom models, and aliases such as Azure deployment names. Throws `config.invalid`
 * listing every problem.
 *
 * @example
 * ```ts
 * const prices = definePrices(
 *   {
 *     asOf: '2026-11-20',
 *     models: { 'ft:gpt-4o-mini:acme::abc123': { contextWindow: 128_000, maxOutputTokens: 16_384, prices: [{ input: 0.3, cachedInput: 0.15, output: 1.2 }] } },
 *     aliases: { 'my-azure-gpt4o': 'gpt-4o' },
 *   },
 *   { extends: openaiPrices },
 * )
 * ```
 */
export function definePrices(
  input: PriceTableInput | (Omit<PriceTableInput, 'asOf'> & { asOf?: string }),
  options: { extends?: PriceTable } = {},
): PriceTable {
  // checkOptions by hand: the prices slice stays small enough to ship to a browser.
  for (const name of Object.keys(options))
    if (name !== 'extends')
      throw invalid(
        `unknown option \`${name}\`${closestName(name, ['extends']) ? '; did you mean `extends`?' : ''}`,
      )
  const base = options.extends
  const parsed = tableSchema.safeParse({ ...input, asOf: input.asOf ?? base?.asOf }, { error: issueMessage })
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue): KeyguardProblem[] => {
      const path = issuePath(issue.path)
      // A misspelt rate (`priorty`) would fall back to a cheaper one: every unknown key is refused.
      if (issue.code === 'unrecognized_keys')
        return issue.keys.map((key) => {
          const closest = closestName(key, knownFields)
          return {
            code: issue.code,
            path: path ? `${path}.${key}` : key,
            message: `unknown field${closest ? `; did you mean ${closest}?` : ''}`,
            fix: closest ? `rename it to ${closest}` : 'remove it',
          }
        })
      return [
        {
          code: issue.code,
          path,
          message: issue.message,
          fix: 'Give prices as non-negative USD per 1M tokens, dates as YYYY-MM-DD, token counts as integers.',
        },
      ]
    })
    throw invalid(
      `${problems.length} problem(s): ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      problems,
    )
  }
  const data = parsed.data
  const models = new Map<string, ModelPrices>(base?.models)
  for (const [id, model] of Object.entries(data.models))
    models.set(id, Object.freeze(resolveModel(id, model)))
  const aliases = new Map<string, string>(base?.aliases)
  for (const [alias, target] of Object.entries(data.aliases ?? {})) aliases.set(alias, target)
  for (const [alias, target] of aliases) {
    if (!models.has(target) && !aliases.has(target))
      throw invalid(`aliases.${alias}: target ${target} is not in the table`)
  }
  return Object.freeze({ asOf: data.asOf, models, aliases })
}
