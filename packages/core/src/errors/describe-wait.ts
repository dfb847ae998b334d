const units: readonly (readonly [string, number])[] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
]

/**
 * A wait as a person reads it, in its largest whole unit (rounded): `in 27 days`, `in 5 hours`,
 * `in 2 minutes`, `in 2 seconds` (rounded up), or `now`. A `Retry-After: 2370779` says the same to a
 * machine.
 *
 * @example
 * ```ts
 * describeWait(2_370_779_000) // 'in 27 days'
 * ```
 */
export function describeWait(ms: number): string {
  if (!(ms > 0)) return 'now'
  const unit = units.find(([, size]) => ms >= size)
  const [name, count] = unit ? [unit[0], Math.round(ms / unit[1])] : ['second', Math.ceil(ms / 1000)]
  return `in ${count} ${name}${count === 1 ? '' : 's'}`
}
