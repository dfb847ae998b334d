/**
 * @internal The candidate closest to `name` by edit distance (case-insensitive), when it is close
 * enough to be a typo: at most a third of the name's letters differ (at least one).
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const wanted = name.toLowerCase()
  const allowed = Math.max(1, Math.round(wanted.length / 3))
  let best: string | undefined
  let bestDistance = allowed + 1
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.
function editDistance(left: string, right: string): number {
  const rows: number[][] = Array.from({ length: left.length + 1 }, (_, index) => [index])
  for (let column = 1; column <= right.length; column++) (rows[0] as number[])[column] = column
  for (let row = 1; row <= left.length; row++) {
    const current = rows[row] as number[]
    for (let column = 1; column <= right.length; column++) {
      const cost = left[row - 1] === right[column - 1] ? 0 : 1
      const above = rows[row - 1] as number[]
      let distance = Math.min(
        (above[column] as number) + 1,
        (current[column - 1] as number) + 1,
        (above[column - 1] as number) + cost,
      )
      if (row > 1 && column > 1 && left[row - 1] === right[column - 2] && left[row - 2] === right[column - 1])
        distance = Math.min(distance, ((rows[row - 2] as number[])[column - 2] as number) + 1)
      current[column] = distance
    }
  }
  return (rows[left.length] as number[])[right.length] as number
}
