// Leases that follow a request's real life. A reservation is written with a short lease
// (`liveLeaseMs`) and this process renews it while the reservation is open here, up to the lease the
// caller asked for. A process that dies stops renewing, so its holds (a crashed worker's
// concurrency slots) end within `liveLeaseMs`, not after the caller's whole lease.

/** Options of {@link leaseKeeper}. */
export interface LeaseKeeperOptions {
  /** The lease each renewal grants, in ms; renewals run every third of it. */
  liveLeaseMs: number
  /** Renews a batch: each id's lease end moves to `leaseMs` from Redis's now, never past its `until`. */
  renew(leases: { id: string; until: number }[], leaseMs: number): Promise<unknown>
  /** Redis's time now (ms) as this process knows it, or undefined before the first reply. */
  redisNow(): number | undefined
  /** Most reservations renewed by one script call. @default 500 */
  batch?: number
}

/** Keeps the reservations this process has open alive in Redis; see {@link LeaseKeeperOptions}. */
export function leaseKeeper({ liveLeaseMs, renew, redisNow, batch = 500 }: LeaseKeeperOptions) {
  // id → the Redis time its caller's own lease ends at (the last a renewal may reach)
  const open = new Map<string, number>()
  let timer: ReturnType<typeof setInterval> | undefined
  let running = false

  const tick = async () => {
    if (running) return
    running = true
    try {
      const now = redisNow() ?? Date.now()
      const due: { id: string; until: number }[] = []
      for (const [id, until] of open) {
        if (until <= now) open.delete(id)
        else due.push({ id, until })
      }
      for (let i = 0; i < due.length; i += batch) {
        // a failed renewal is tried again at the next tick; the lease itself is the fallback
        await renew(due.slice(i, i + batch), liveLeaseMs).catch(() => {})
      }
    } finally {
      running = false
      if (open.size === 0 && timer !== undefined) {
        clearInterval(timer)
        timer = undefined
      }
    }
  }

  return {
    /** The lease to write for a reservation the caller asked `leaseMs` for. */
    leaseFor(leaseMs: number): number {
      return Math.min(leaseMs, liveLeaseMs)
    },
    /** Start renewing `id` (reserved for `leaseMs`) while it is open here. */
    open(id: string, leaseMs: number): void {
      if (leaseMs <= liveLeaseMs) return
      open.set(id, (redisNow() ?? Date.now()) + leaseMs)
      if (timer === undefined) {
        timer = setInterval(() => void tick(), Math.max(1, Math.floor(liveLeaseMs / 3)))
        ;(timer as { unref?: () => void }).unref?.()
      }
    },
    /** Stop renewing `id` (settled, released, cancelled). */
    close(id: string): void {
      open.delete(id)
    },
    /** How many reservations are being renewed. */
    get size(): number {
      return open.size
    },
  }
}
