import { KeyguardError } from '../errors/keyguard-error'

/** Money in integer nano-USD (1e-9 USD). Exact in a JS `number` up to 2^53 (about $9M). */
export type Nanos = number

const NANOS_PER_USD = 1_000_000_000
/** The largest whole-dollar amount whose nanos are still a safe integer: about $9M. */
const MAX_DOLLARS = Math.floor(Number.MAX_SAFE_INTEGER / NANOS_PER_USD)

/**
 * Converts dollars to integer nano-USD, exactly: the amount's decimal digits become nanos. An amount
 * with digits below the nano (`usd(1 / 3)`), one whose nanos pass `Number.MAX_SAFE_INTEGER` (about
 * $9M), or one that is not a finite number cannot be held exactly, and throws `config.invalid` with the fix.
 *
 * @example
 * ```ts
 * usd(0.15) // 150_000_000
 * usd(5) // 5_000_000_000
 * ```
 */
export function usd(dollars: number): Nanos {
  const abs = Math.abs(dollars)
  if (!Number.isFinite(dollars) || abs > MAX_DOLLARS)
    throw notExact(
      dollars,
      `amounts up to $${MAX_DOLLARS.toLocaleString('en-US')} (the nanos stay a safe integer)`,
    )
  // The decimal string, not `dollars * 1e9`: 0.15 * 1e9 is 150000000.00000003 in floating point.
  const text = abs.toFixed(9)
  if (Number(text) !== abs) throw notExact(dollars, 'at most 9 decimal places (one nano-USD is $0.000000001)')
  const [whole = '0', fraction = '0'] = text.split('.')
  const nanos = Number(whole) * NANOS_PER_USD + Number(fraction)
  return dollars < 0 ? -nanos : nanos
}

function notExact(dollars: number, accepts: string): KeyguardError {
  return new KeyguardError({
    code: 'config.invalid',
    message: `usd(${dollars}): not an exact amount of nano-USD; usd() takes ${accepts}`,
    operatorHint:
      'round the amount to the nano first (Math.round(dollars * 1e9) / 1e9), or pass integer nanos directly; money in keyguard is integer nano-USD',
  })
}

/**
 * Formats nano-USD as dollars: at least two decimals, up to `digits` (trailing zeros trimmed); a
 * non-zero amount that would round to zero keeps two significant digits instead.
 *
 * @default options.digits 6
 * @example
 * ```ts
 * formatUsd(1_200_000) // '$0.0012'
 * formatUsd(5_000_000_000) // '$5.00'
 * formatUsd(80) // '$0.00000008'
 * ```
 */
export function formatUsd(nanos: Nanos, options: { digits?: number } = {}): string {
  const { digits = 6 } = options
  if (!Number.isInteger(nanos)) throw new RangeError(`formatUsd(): expected integer nanos, got ${nanos}`)
  const sign = nanos < 0 ? '-' : ''
  const abs = Math.abs(nanos)
  let places = Math.min(9, Math.max(0, Math.trunc(digits)))
  // A cost too small for `digits` keeps two significant digits: $0.00000008, never a misleading $0.00.
  if (abs > 0 && abs < 10 ** (9 - places) / 2) places = Math.min(9, 9 - String(abs).length + 2)
  const scale = 10 ** (9 - places)
  // Integer rounding (half up) to `places` decimals, so large values never go through a float division.
  const rounded = Math.floor((abs + Math.floor(scale / 2)) / scale)
  const whole = Math.floor(rounded / 10 ** places)
  let fraction = places === 0 ? '' : String(rounded % 10 ** places).padStart(places, '0')
  fraction = fraction.replace(/0+$/, '')
  if (fraction.length < 2 && places >= 2) fraction = fraction.padEnd(2, '0')
  return `${sign}$${whole}${fraction ? `.${fraction}` : ''}`
}
