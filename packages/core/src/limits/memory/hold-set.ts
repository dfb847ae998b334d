/** Something kept in a {@link HoldSet}: its reservation id and its place in the set (-1: not in it). */
export interface Slotted {
  id: string
  slot: number
}

/** One reservation's hold in a state that is not a requests log. */
export interface Hold extends Slotted {
  amount: number
  leaseEnd: number
}

/** No holds: the items of every empty {@link HoldSet}, so an idle state holds no array. */
const noHolds: readonly Slotted[] = /* @__PURE__ */ Object.freeze([])

/**
 * The live holds of a state, by reference: adding and removing are O(1) with no hashing (the
 * reservation keeps a reference to its hold); finding one by id scans, and only rare paths do.
 *
 * @example
 * ```ts
 * const holds = new HoldSet<Hold>()
 * const hold = { id: 'call-1', amount: 5, leaseEnd: 60_000, slot: -1 }
 * holds.add(hold)
 * holds.has(hold) // true
 * ```
 */
export class HoldSet<T extends Slotted> {
  /** The holds in no order; {@link noHolds} (shared, never written) while there are none. */
  items: T[] = noHolds as T[]
  get size(): number {
    return this.items.length
  }
  has(item: T | null): item is T {
    return item !== null && item.slot >= 0 && this.items[item.slot] === item
  }
  find(id: string): T | null {
    for (const item of this.items) if (item.id === id) return item
    return null
  }
  add(item: T): void {
    item.slot = this.items.length
    // the first hold gets an array of its own, sized for one: most states hold one call at a time
    if (item.slot === 0) this.items = [item]
    else this.items.push(item)
  }
  /** Put `next` in the place of `item`. */
  replace(item: T, next: T): void {
    next.slot = item.slot
    this.items[item.slot] = next
    item.slot = -1
  }
  remove(item: T): void {
    const last = this.items.pop() as T
    if (last !== item) {
      last.slot = item.slot
      this.items[item.slot] = last
    }
    item.slot = -1
    // an idle state (most of a million tenants) keeps no array of its own
    if (this.items.length === 0) this.items = noHolds as T[]
  }
}

/** A state that keeps its holds in a {@link HoldSet} with their sum (every kind but requests). */
export interface Held {
  holds: HoldSet<Hold>
  /** Sum of the holds' amounts. */
  held: number
}

/** A copy of `holds` with copies of its holds. */
export function copyHolds(holds: HoldSet<Hold>): HoldSet<Hold> {
  const copy = new HoldSet<Hold>()
  for (const hold of holds.items) copy.add({ ...hold })
  return copy
}

/** Hold `amount` for `id` in `state`, joining `prev` when it is still one of its holds. */
export function holdIn(state: Held, id: string, amount: number, leaseEnd: number, prev: Hold | null): Hold {
  state.held += amount
  if (prev !== null && state.holds.has(prev)) {
    prev.amount += amount
    return prev
  }
  const hold: Hold = { id, amount, leaseEnd, slot: -1 }
  state.holds.add(hold)
  return hold
}

/** Take the hold of `id` (`hint` when it is still one of them) out of `state`: the hold, or null. */
export function takeHold(state: Held, id: string, hint: Hold | null): Hold | null {
  const hold = state.holds.has(hint) ? hint : state.holds.find(id)
  if (!hold) return null
  state.holds.remove(hold)
  state.held -= hold.amount
  return hold
}
