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

type Size = { width: number; height: number }

function tiles({ width, height }: Size): number {
  // Fit within 2048 × 2048, then bring the short side down to 768 (never scaled up).
  let scale = Math.min(1, 2048 / Math.max(width, height))
  let w = width * scale
  let h = height * scale
  scale = Math.min(1, 768 / Math.min(w, h))
  w *= scale
  h *= scale
  return Math.ceil(w / 512) * Math.ceil(h / 512)
}

function patches({ width, height }: Size): number {
  const raw = Math.ceil(width / 32) * Math.ceil(height / 32)
  if (raw <= MAX_PATCHES) return raw
  // Scale down to fit 1536 patches, then so that whole patches fit the width or height exactly.
  let scale = Math.sqrt((32 * 32 * MAX_PATCHES) / (width * height))
  scale *= Math.min(
    Math.floor((width * scale) / 32) / ((width * scale) / 32),
    Math.floor((height * scale) / 32) / ((height * scale) / 32),
  )
  return Math.min(MAX_PATCHES, Math.ceil((width * scale) / 32) * Math.ceil((height * scale) / 32))
}

/**
 * Input tokens of one image for `model` at `detail`: exact-by-formula when the size is known (an inline
 * data URL), else the worst-case shape.
 */
export function imageTokenBound(model: string, detail: unknown, size?: Size): number {
  for (const [pattern, multiplier] of patchModels) {
    if (pattern.test(model)) return Math.ceil((size ? patches(size) : MAX_PATCHES) * multiplier)
  }
  for (const [pattern, base, tile] of tileModels) {
    if (pattern.test(model)) return detail === 'low' ? base : base + tile * (size ? tiles(size) : MAX_TILES)
  }
  // Unknown family: the largest tile formula above, so the bound stays a bound.
  return detail === 'low' ? 2833 : 2833 + 5667 * MAX_TILES
}
