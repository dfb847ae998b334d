import { stripVTControlCharacters } from 'node:util'

/** How one column of a {@link formatTable} lines up. */
export type ColumnAlign = 'left' | 'right'

/** Options for {@link formatTable}. */
export interface FormatTableOptions {
  /** Alignment per column; numbers read best right-aligned. @default every column 'left' */
  align?: readonly ColumnAlign[]
  /** Spaces before every line. @default 2 */
  indent?: number
  /** Spaces between columns. @default 2 */
  gap?: number
}

const visibleWidth = (text: string) => stripVTControlCharacters(text).length

/**
 * Lay rows out as an aligned plain-text table; ANSI colors in cells do not count toward widths.
 *
 * @example
 * ```ts
 * formatTable([['model', 'input'], ['gpt-5', '$1.25']], { align: ['left', 'right'] })
 * // '  model  input\n  gpt-5  $1.25\n'
 * ```
 */
export function formatTable(rows: readonly (readonly string[])[], options: FormatTableOptions = {}): string {
  const { align = [], indent = 2, gap = 2 } = options
  const widths: number[] = []
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, visibleWidth(cell))
    })
  }
  const lines = rows.map((row) => {
    const cells = row.map((cell, index) => {
      const padding = ' '.repeat(widths[index]! - visibleWidth(cell))
      if (align[index] === 'right') return padding + cell
      // The last column is not padded on the right: no trailing spaces.
      return index === row.length - 1 ? cell : cell + padding
    })
    return ' '.repeat(indent) + cells.join(' '.repeat(gap))
  })
  return lines.map((line) => `${line.trimEnd()}\n`).join('')
}
