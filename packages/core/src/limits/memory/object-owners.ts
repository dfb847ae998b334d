import type { ClaimInput } from '../store'

/**
 * Object ownership for the memory store: first claim wins, expiry is lazy, and beyond `maxKeys`
 * the oldest claims are forgotten first (their owner then reads them as unknown: fail closed).
 */
export function objectOwners(now: () => number, maxKeys: number) {
  const owners = new Map<string, { owner: string; expiresAt: number }>()
  const live = (objectId: string, at: number) => {
    const entry = owners.get(objectId)
    if (entry && entry.expiresAt <= at) {
      owners.delete(objectId)
      return undefined
    }
    return entry
  }
  return {
    claim({ objectId, owner, ttlMs }: ClaimInput): { owner: string } {
      if (typeof objectId !== 'string' || objectId === '' || typeof owner !== 'string' || owner === '')
        throw new RangeError('claim: objectId and owner must be non-empty strings')
      if (!Number.isSafeInteger(ttlMs) || ttlMs < 1)
        throw new RangeError('claim: ttlMs must be an integer ≥ 1')
      const at = now()
      const existing = live(objectId, at)
      if (existing) return { owner: existing.owner }
      owners.set(objectId, { owner, expiresAt: at + ttlMs })
      if (owners.size > maxKeys) owners.delete(owners.keys().next().value as string)
      return { owner }
    },
    ownerOf(objectId: string): string | null {
      return live(objectId, now())?.owner ?? null
    },
  }
}
