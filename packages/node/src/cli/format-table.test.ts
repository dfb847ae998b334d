import { describe, expect, it } from 'vitest'
import { formatTable } from './format-table'

describe('formatTable', () => {
  it('pads columns to the widest cell and right-aligns numbers', () => {
    const table = formatTable(
      [
        ['model', 'input'],
        ['gpt-5-mini', '$0.25'],
        ['o3', '$2.00'],
      ],
      { align: ['left', 'right'] },
    )
    expect(table).toBe('  model       input\n  gpt-5-mini  $0.25\n  o3          $2.00\n')
  })

  it('ignores ANSI color codes when measuring and leaves no trailing spaces', () => {
    const table = formatTable(
      [
        ['\u001b[31mred\u001b[39m', 'x'],
        ['green', 'yy'],
        ['a', ''],
      ],
      { indent: 0 },
    )
    expect(table).toBe('\u001b[31mred\u001b[39m    x\ngreen  yy\na\n')
  })
})
