/**
 * Whose a hold is: its reservation's id and lease end. The store passes the reservation's record itself,
 * so a hold copies neither (a lease end is a double, which V8 would box in each hold).
 */
export interface HoldOwner {
  readonly id: string
  readonly leaseEnd: number
}

/** Something kept in a {@link HoldSet}: whose it is and its place in the set (-1: not in it). */
export interface Slotted {
  owner: HoldOwner
  slot: number
}

/** One reservation's hold in a state that is not a requests log. */
export interface Hold extends Slotted {
  amount: number
}

/** No more holds: the `rest` of every {@link HoldSet} holding at most one, so such a state holds no array. */
const noHolds: readonly Slotted[] = /* @__PURE__ */ Object.freeze([])

/**
 * The live holds of a state, by reference: adding and removing are O(1) with no hashing (the
 * reservation keeps a reference to its hold); finding one by id scans, and only rare paths do. The
 * first hold sits in a field of its own, so a state serving one call at a time (most of them) allocates
 * no array for it: place 0 is `first`, place `k ≥ 1` is `rest[k - 1]`.
 *
 * @example
 * ```ts
 * const holds = new HoldSet<Hold>()
 * const hold = { owner: { id: 'call-1', leaseEnd: 60_000 }, amount: 5, slot: -1 }
 * holds.add(hold)
 * holds.has(hold) // true
 * ```
 */
export class HoldSet<T extends Slotted> {
  /** The hold at place 0; null only while the set is empty. */
  first: T | null = null
  /** The holds at places 1…, in no order; {@link noHolds} (shared, never written) while there are none. */
  rest: T[] = noHolds as T[]
  get size(): number {
    return this.first === null ? 0 : this.rest.length + 1
  }
  /** The hold at place `index` (0 ≤ index < size). */
  at(index: number): T {
    return (index === 0 ? this.first : this.rest[index - 1]) as T
  }
  /** The holds as a new array, in place order (rare paths: clones, retry times). */
  toArray(): T[] {
    return this.first === null ? [] : [this.first, ...this.rest]
  }
  has(item: T | null): item is T {
    return item !== null && item.slot >= 0 && item.slot < this.size && this.at(item.slot) === item
  }
  find(id: string): T | null {
    if (this.first !== null && this.first.owner.id === id) return this.first
    for (const item of this.rest) if (item.owner.id === id) return item
    return null
  }
  add(item: T): void {
    if (this.first === null) {
      item.slot = 0
      this.first = item
      return
    }
    item.slot = this.rest.length + 1
    // the second hold gets an array of its own, sized for one
    if (this.rest.length === 0) this.rest = [item]
    else this.rest.push(item)
  }
  /** Put `next` in the place of `item`. */
  replace(item: T, next: T): void {
    next.slot = item.slot
    this.put(item.slot, next)
    item.slot = -1
  }
  remove(item: T): void {
    const rest = this.rest
    if (rest.length === 0) {
      // the only hold
      this.first = null
    } else {
      const last = rest.pop() as T
      // a state back to one hold keeps no array of its own
      if (rest.length === 0) this.rest = noHolds as T[]
      if (last !== item) {
        last.slot = item.slot
        this.put(item.slot, last)
      }
    }
    item.slot = -1
  }
  private put(index: number, item: T): void {
    if (index === 0) this.first = item
    else this.rest[index - 1] = item
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
  for (const hold of holds.toArray()) copy.add({ ...hold })
  return copy
}

/** Hold `amount` for `owner` in `state`, joining `prev` when it is still one of its holds. */
export function holdIn(state: Held, owner: HoldOwner, amount: number, prev: Hold | null): Hold {
  state.held += amount
  if (prev !== null && state.holds.has(prev)) {
    prev.amount += amount
    return prev
  }
  const hold: Hold = { owner, amount, slot: -1 }
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
