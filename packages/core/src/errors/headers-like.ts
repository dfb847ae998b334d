/** Response headers as a `Headers` object or a plain record (Node's `IncomingHttpHeaders`, a test's literal). */
export type HeadersLike =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | number | null | undefined>>

/** Read one header, case-insensitively, from any {@link HeadersLike}. */
export function readHeader(headers: HeadersLike | null | undefined, name: string): string | undefined {
  if (headers === null || headers === undefined) return undefined
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined
  }
  const record = headers as Readonly<Record<string, unknown>>
  const lower = name.toLowerCase()
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() !== lower || value === null || value === undefined) continue
    return Array.isArray(value) ? value.join(', ') : String(value)
  }
  return undefined
}
