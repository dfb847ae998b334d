import type { PeriodRef } from './store'

/** How to cut time into spend periods. */
export interface PeriodOptions {
  period: 'day' | 'week' | 'month'
  /** An IANA time zone such as `Europe/Paris`. @default 'UTC' */
  timeZone?: string
  /** Month periods only: the billing day the period starts on (1–31), clamped to short months. @default 1 */
  anchorDay?: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

/** Whether `timeZone` is an IANA zone this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone)
    return true
  } catch {
    return false
  }
}

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone)
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, formatter)
  }
  return formatter
}

interface LocalDate {
  year: number
  /** 1–12 */
  month: number
  day: number
}

function localParts(
  at: number,
  timeZone: string,
): LocalDate & { hour: number; minute: number; second: number } {
  const parts: Record<string, number> = {}
  for (const part of formatterFor(timeZone).formatToParts(at)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value)
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: (parts.hour ?? 0) % 24,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  }
}

/** The zone's offset from UTC at an instant, in ms (local = utc + offset). */
function offsetAt(at: number, timeZone: string): number {
  const p = localParts(at, timeZone)
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second)
  return asUtc - Math.floor(at / 1000) * 1000
}

/** The instant local midnight starts `date` in `timeZone` (the first instant of the day when DST skips midnight). */
function startOfDay(date: LocalDate, timeZone: string): number {
  const wall = Date.UTC(date.year, date.month - 1, date.day)
  let guess = wall - offsetAt(wall, timeZone)
  guess = wall - offsetAt(guess, timeZone)
  // A DST change at midnight can skip it: the day then starts at the first instant that is on that date.
  const p = localParts(guess, timeZone)
  if (Date.UTC(p.year, p.month - 1, p.day) < wall) guess += 3_600_000
  return guess
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days))
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() }
}

function monthStart(year: number, month: number, anchorDay: number): LocalDate {
  const normalized = new Date(Date.UTC(year, month - 1, 1))
  const y = normalized.getUTCFullYear()
  const m = normalized.getUTCMonth() + 1
  return { year: y, month: m, day: Math.min(anchorDay, daysInMonth(y, m)) }
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0')
const isoDate = (d: LocalDate) => `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}`

/**
 * The calendar period containing an instant: day, ISO week (from Monday) or month (from an anchor
 * day, clamped to the month's length: anchor 31 starts on Feb 28 or 29), in UTC or an IANA zone.
 *
 * @param at - the instant, epoch ms.
 * @param options - the period kind, time zone and anchor day.
 * @example
 * ```ts
 * periodOf(Date.UTC(2026, 10, 28), { period: 'month' }) // { id: '2026-11', endsAt: Date.UTC(2026, 11, 1) }
 * ```
 */
export function periodOf(at: number, { period, timeZone = 'UTC', anchorDay = 1 }: PeriodOptions): PeriodRef {
  // Every guarded call asks for the period it falls in; Intl's formatToParts is the costly part, so the
  // last period seen per (kind, zone, anchor) is kept while `at` stays inside it. Pure data, no text.
  const cacheKey = `${period}|${timeZone}|${anchorDay}`
  const cached = periods.get(cacheKey)
  if (cached && at >= cached.startsAt && at < cached.ref.endsAt) return cached.ref
  const computed = computePeriod(at, period, timeZone, anchorDay)
  if (periods.size >= maxCachedPeriods && !periods.has(cacheKey)) periods.clear()
  periods.set(cacheKey, computed)
  return computed.ref
}

/**
 * The calendar period containing an instant, with the instant it starts: what a store with its own
 * clock needs to recompute a {@link PeriodRef} (its `of`) and check its clock is inside it.
 *
 * @example
 * ```ts
 * periodSpanOf(Date.UTC(2026, 10, 28), { period: 'month' })
 * // { id: '2026-11', startsAt: Date.UTC(2026, 10, 1), endsAt: Date.UTC(2026, 11, 1) }
 * ```
 */
export function periodSpanOf(at: number, options: PeriodOptions): PeriodRef & { startsAt: number } {
  const ref = periodOf(at, options)
  const { period, timeZone = 'UTC', anchorDay = 1 } = options
  const cached = periods.get(`${period}|${timeZone}|${anchorDay}`)
  const startsAt =
    cached?.ref === ref ? cached.startsAt : computePeriod(at, period, timeZone, anchorDay).startsAt
  return { id: ref.id, startsAt, endsAt: ref.endsAt }
}

const maxCachedPeriods = 256
const periods = new Map<string, { startsAt: number; ref: PeriodRef }>()

function computePeriod(
  at: number,
  period: PeriodOptions['period'],
  timeZone: string,
  anchorDay: number,
): { startsAt: number; ref: PeriodRef } {
  const ref = uncachedPeriodOf(at, period, timeZone, anchorDay)
  return { startsAt: ref.startsAt, ref: Object.freeze({ id: ref.id, endsAt: ref.endsAt }) }
}

function uncachedPeriodOf(
  at: number,
  period: PeriodOptions['period'],
  timeZone: string,
  anchorDay: number,
): PeriodRef & { startsAt: number } {
  const now = localParts(at, timeZone)
  const today: LocalDate = { year: now.year, month: now.month, day: now.day }
  if (period === 'day') {
    return {
      id: isoDate(today),
      startsAt: startOfDay(today, timeZone),
      endsAt: startOfDay(addDays(today, 1), timeZone),
    }
  }
  if (period === 'week') {
    const weekday = (new Date(Date.UTC(today.year, today.month - 1, today.day)).getUTCDay() + 6) % 7
    const monday = addDays(today, -weekday)
    return {
      id: `week-${isoDate(monday)}`,
      startsAt: startOfDay(monday, timeZone),
      endsAt: startOfDay(addDays(monday, 7), timeZone),
    }
  }
  let start = monthStart(today.year, today.month, anchorDay)
  if (today.day < start.day) start = monthStart(today.year, today.month - 1, anchorDay)
  const end = monthStart(start.year, start.month + 1, anchorDay)
  const id = anchorDay === 1 ? `${pad(start.year, 4)}-${pad(start.month)}` : isoDate(start)
  return { id, startsAt: startOfDay(start, timeZone), endsAt: startOfDay(end, timeZone) }
}
