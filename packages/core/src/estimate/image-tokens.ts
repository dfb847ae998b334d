// Image input tokens by model family, from OpenAI's vision guide. Tile models: `base + tile × tiles`
// (512 px tiles after fitting 2048² then 768 px on the short side: at most 8 tiles). Patch models: 32 px
// patches, capped at 1536, times a per-model multiplier. Dimensions are not known from a URL, so the
// bound assumes the worst-case shape; `detail: 'low'` is exact for tile models.
const tileModels: ReadonlyArray<readonly [RegExp, number, number]> = [
  [/^gpt-4o-mini/, 2833, 5667],
  [/^gpt-5(?!-mini|-nano)/, 70, 140],
  [/^(o1|o3)(?!-mini)/, 75, 150],
  [/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-4-turbo|chatgpt-4o)(?!-mini|-nano)/, 85, 170],
]
const patchModels: ReadonlyArray<readonly [RegExp, number]> = [
  [/^gpt-4\.1-mini|^gpt-5(\.\d)?-mini/, 1.62],
  [/^gpt-4\.1-nano|^gpt-5(\.\d)?-nano/, 2.46],
  [/^o4-mini/, 1.72],
]
const MAX_TILES = 8
const MAX_PATCHES = 1536

/** Upper bound of the input tokens of one image for `model` at `detail`. */
export function imageTokenBound(model: string, detail: unknown): number {
  for (const [pattern, multiplier] of patchModels) {
    if (pattern.test(model)) return Math.ceil(MAX_PATCHES * multiplier)
  }
  for (const [pattern, base, tile] of tileModels) {
    if (pattern.test(model)) return detail === 'low' ? base : base + tile * MAX_TILES
  }
  // Unknown family: the largest tile formula above, so the bound stays a bound.
  return detail === 'low' ? 2833 : 2833 + 5667 * MAX_TILES
}
