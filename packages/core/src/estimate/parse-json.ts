import { yieldToEventLoop } from './yield-to-event-loop'

/** Options for {@link parseJson}. */
export interface ParseJsonOptions {
  /** A value whose text is at most this long is parsed by one `JSON.parse` call. @default 16384 */
  chunkChars?: number
  /**
   * Deepest nesting of containers larger than `chunkChars` (smaller ones are JSON.parse's): each level
   * rescans its text, so this bounds the work. A request body needs about 6. @default 32
   */
  maxDepth?: number
  /** Give the event loop a turn after this long (ms). @default 5 */
  budgetMs?: number
}

const isSpace = (code: number) => code === 32 || code === 9 || code === 10 || code === 13

/**
 * `JSON.parse` that never holds the event loop for long: a large object or array is cut into its members
 * by a string-aware scan, each member parsed on its own (recursively, if it is large too), with a turn of
 * the loop every few milliseconds. The result equals `JSON.parse(text)`; invalid JSON throws a
 * `SyntaxError` as `JSON.parse` does, and so does nesting of large containers deeper than `maxDepth`.
 *
 * @example
 * ```ts
 * const body = await parseJson(await request.text())
 * ```
 */
export async function parseJson(text: string, options: ParseJsonOptions = {}): Promise<unknown> {
  const { chunkChars = 16_384, maxDepth = 32, budgetMs = 5 } = options
  let since = Date.now()
  const turn = async () => {
    if (Date.now() - since < budgetMs) return
    await yieldToEventLoop()
    since = Date.now()
  }

  // A large string literal (a base64 blob, a long document) is decoded in pieces cut outside any escape
  // sequence, each wrapped in quotes and given to JSON.parse; a surrogate pair cut in two joins again.
  const parseString = async (start: number, end: number): Promise<string> => {
    if (text.charCodeAt(end - 1) !== 34 || end - start < 2)
      throw new SyntaxError('Unterminated string in JSON')
    const pieces: string[] = []
    let pieceStart = start + 1
    for (let index = start + 1; index < end - 1; index++) {
      const code = text.charCodeAt(index)
      if (code === 34) throw new SyntaxError('Unexpected token in JSON string')
      // Past the whole escape: the escaped character, and a \u escape's four hex digits.
      if (code === 92) index += text.charCodeAt(index + 1) === 117 ? 5 : 1
      else if (index + 1 - pieceStart >= chunkChars) {
        pieces.push(JSON.parse(`"${text.slice(pieceStart, index + 1)}"`) as string)
        pieceStart = index + 1
        await turn()
      }
    }
    pieces.push(JSON.parse(`"${text.slice(pieceStart, end - 1)}"`) as string)
    return pieces.join('')
  }

  const parseSpan = async (start: number, end: number, depth: number): Promise<unknown> => {
    while (start < end && isSpace(text.charCodeAt(start))) start++
    while (end > start && isSpace(text.charCodeAt(end - 1))) end--
    await turn()
    const open = text.charCodeAt(start)
    const isObject = open === 123 // {
    if (end - start > chunkChars && open === 34) return parseString(start, end)
    if (end - start <= chunkChars || (!isObject && open !== 91)) return JSON.parse(text.slice(start, end))
    if (text.charCodeAt(end - 1) !== (isObject ? 125 : 93))
      throw new SyntaxError('Unexpected end of JSON input')
    if (depth >= maxDepth) throw new SyntaxError(`JSON nested deeper than ${maxDepth} large containers`)
    const result: Record<string, unknown> | unknown[] = isObject ? {} : []
    let memberStart = start + 1
    let colon = -1
    let nesting = 0
    let inString = false
    const member = async (memberEnd: number) => {
      if (isObject) {
        if (colon < 0) throw new SyntaxError('Expected a colon after a property name in JSON')
        const key = JSON.parse(text.slice(memberStart, colon))
        if (typeof key !== 'string') throw new SyntaxError('Expected a string property name in JSON')
        const value = await parseSpan(colon + 1, memberEnd, depth + 1)
        // Defined, not assigned: a "__proto__" member is an own property, as JSON.parse makes it.
        Object.defineProperty(result, key, { value, writable: true, enumerable: true, configurable: true })
      } else (result as unknown[]).push(await parseSpan(memberStart, memberEnd, depth + 1))
      memberStart = memberEnd + 1
      colon = -1
    }
    let empty = true
    for (let index = start + 1; index < end - 1; index++) {
      if ((index & 0x3fff) === 0) await turn()
      const code = text.charCodeAt(index)
      if (inString) {
        if (code === 92)
          index++ // a backslash escapes the next character
        else if (code === 34) inString = false
        continue
      }
      if (!isSpace(code)) empty = false
      if (code === 34) inString = true
      else if (code === 123 || code === 91) nesting++
      else if (code === 125 || code === 93) nesting--
      else if (nesting === 0 && code === 58 && colon < 0) colon = index
      else if (nesting === 0 && code === 44) await member(index)
    }
    if (inString || nesting !== 0) throw new SyntaxError('Unexpected end of JSON input')
    if (!empty) await member(end - 1)
    return result
  }

  return parseSpan(0, text.length, 0)
}
