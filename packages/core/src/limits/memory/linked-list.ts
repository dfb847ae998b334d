/** Something a {@link LinkedList} can hold by its own links (null while in no list). */
export interface Linked {
  prev: Linked | null
  next: Linked | null
}

/**
 * A doubly linked list through its items' own `prev` / `next`: push, unlink and first are O(1) with no
 * allocation and no hashing, so the memory store's least-recently-used order costs the same at a
 * million states as at ten. An item is in at most one list at a time.
 *
 * @example
 * ```ts
 * const list = new LinkedList<Linked>()
 * const item: Linked = { prev: null, next: null }
 * list.push(item)
 * unlink(item) // list.first() is null again
 * ```
 */
export class LinkedList<T extends Linked> {
  private readonly end: Linked = { prev: null, next: null }
  constructor() {
    this.end.prev = this.end
    this.end.next = this.end
  }
  /** The item pushed longest ago, or null. */
  first(): T | null {
    const first = this.end.next as Linked
    return first === this.end ? null : (first as T)
  }
  /** Add `item` (in no list) at the end. */
  push(item: T): void {
    const last = this.end.prev as Linked
    item.prev = last
    item.next = this.end
    last.next = item
    this.end.prev = item
  }
}

/** Take `item` out of the list it is in. */
export function unlink(item: Linked): void {
  ;(item.prev as Linked).next = item.next
  ;(item.next as Linked).prev = item.prev
  item.prev = null
  item.next = null
}
