// Image input tokens by model family, from OpenAI's vision guide ("Images and vision", calculating
// costs). Tile families: `base + tile × tiles` (512 px tiles after fitting 2048² then bringing the short
// side to 768 px: at most 8 tiles); `detail: 'low'` is `base` alone. Patch families: 32 px patches up to a
// budget (the image shrunk to fit it), times a per-model multiplier; `detail` does not change them.

type Size = { width: number; height: number }

interface TileFamily {
  kind: 'tile'
  base: number
  tile: number
  /** The formula is the documented one and measurements agree with it. */
  verified: boolean
}
interface PatchFamily {
  kind: 'patch'
  multiplier: number
  /** Patch budget at `detail: 'high'` or `'auto'`. */
  budget: number
  /** Patch budget at `detail: 'original'`, where the family has one. */
  originalBudget?: number
  verified: boolean
}
type ImageFamily = TileFamily | PatchFamily

/* @__NO_SIDE_EFFECTS__ */ const tile = (base: number, tileTokens: number, verified = true): TileFamily => ({
  kind: 'tile',
  base,
  tile: tileTokens,
  verified,
})
/* @__NO_SIDE_EFFECTS__ */ const patch = (
  multiplier: number,
  verified: boolean,
  budget = 1536,
  originalBudget?: number,
): PatchFamily => ({
  kind: 'patch',
  multiplier,
  budget,
  verified,
  ...(originalBudget === undefined ? {} : { originalBudget }),
})

// First match wins; ids are the price table's (snapshots resolve to their row before this is asked).
const families: ReadonlyArray<readonly [RegExp, ImageFamily]> = [
  // gpt-5.2 and later: patches, 2500 at high and up to 10 000 at `original` (measured: 1600² billed 2500
  // patches on gpt-5.4, -mini and -nano). OpenAI's published multipliers for these disagree with what it
  // bills (1.2 measured), so the larger documented one per size is held and the count is inexact.
  [/^gpt-5\.([2-9]|\d\d).*-nano/, patch(2.46, false, 2500, 10_000)],
  [/^gpt-5\.([2-9]|\d\d)/, patch(1.62, false, 2500, 10_000)],
  // gpt-5-mini/-nano (and 5.1's): documented 1.62 / 2.46; billed 1.2 / 1.5, so the documented
  // multiplier is an upper bound, not the count.
  [/^gpt-5(\.1)?(-codex)?-mini/, patch(1.62, false)],
  [/^gpt-5(\.1)?-nano/, patch(2.46, false)],
  [/^gpt-4\.1-mini/, patch(1.62, true)],
  [/^gpt-4\.1-nano/, patch(2.46, true)],
  [/^(o4-mini|codex-mini)/, patch(1.72, true)],
  [/^gpt-4o-mini/, tile(2833, 5667)],
  // Documented, not measured here: the formula is held, marked inexact. (o1 was measured below it.)
  [/^gpt-5(\.1)?(?!\.)/, tile(70, 140, false)],
  [/^o1(?!-mini)/, tile(75, 150, false)],
  [/^(computer-use|gpt-image-1)/, tile(65, 129, false)],
  [/^o3(?!-mini)/, tile(75, 150)],
  [/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-4-turbo|gpt-4-vision|chatgpt-4o)/, tile(85, 170)],
]

// An unknown family is held at the dearest formula above at its largest shape.
const UNKNOWN: TileFamily = /* @__PURE__ */ tile(2833, 5667, false)
const MAX_TILES = 8

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

function patches({ width, height }: Size, budget: number): number {
  const raw = Math.ceil(width / 32) * Math.ceil(height / 32)
  if (raw <= budget) return raw
  // Scale down to fit the budget, then so that whole patches fit the width or height exactly.
  let scale = Math.sqrt((32 * 32 * budget) / (width * height))
  scale *= Math.min(
    Math.floor((width * scale) / 32) / ((width * scale) / 32),
    Math.floor((height * scale) / 32) / ((height * scale) / 32),
  )
  return Math.min(budget, Math.ceil((width * scale) / 32) * Math.ceil((height * scale) / 32))
}

/** Tokens of one image, and whether that is the count OpenAI bills or a bound above it. */
export interface ImageTokens {
  tokens: number
  exact: boolean
}

/**
 * Input tokens of one image for `model` at `detail`: by the family's formula when the size is known (an
 * inline data URL), else its largest shape, marked inexact. `auto` (or no detail) is held at `high`:
 * OpenAI picks, so the dearer is the bound.
 */
export function imageTokens(model: string, detail: unknown, size?: Size): ImageTokens {
  const family = families.find(([pattern]) => pattern.test(model))?.[1] ?? UNKNOWN
  if (family.kind === 'patch') {
    const budget = detail === 'original' ? (family.originalBudget ?? family.budget) : family.budget
    const count = size ? patches(size, budget) : budget
    return { tokens: Math.ceil(count * family.multiplier), exact: family.verified && size !== undefined }
  }
  if (detail === 'low') return { tokens: family.base, exact: family.verified }
  const count = size ? tiles(size) : MAX_TILES
  return {
    tokens: family.base + family.tile * count,
    exact: family.verified && size !== undefined && detail === 'high',
  }
}
