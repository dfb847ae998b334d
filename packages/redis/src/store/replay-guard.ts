// A reserve the app already answered as failed must never hold or charge anything, whatever a Redis
// client replays after an outage (ioredis resends in-flight commands and its offline queue on
// reconnect; node-redis queues commands while disconnected; a paused server runs everything buffered
// in its socket when it resumes). Two guards, both needed:
// - a cancel for every reserve that failed or timed out, sent on the same client right after it, so
//   it arrives after a replayed reserve and releases its hold, or before it and leaves a tombstone
//   that turns the late reserve into a no-op (the `cancel` script);
// - a deadline on every reserve in Redis's own clock, so a reserve that runs after its sender gave up
//   writes nothing even when its cancel was lost.

/** Redis's clock as seen from this process, learned from reserve replies. */
export interface RedisClock {
  /** The latest Redis time (ms) at which a reserve sent at `sentAt` (performance.now()) may still run. */
  deadline(sentAt: number): number | undefined
  /** Record a reply: the call was sent at `sentAt` (performance.now()) and Redis ran it at `redisNow`. */
  observe(sentAt: number, redisNow: number): void
  /** Redis's time now (ms), as last learned (a little late by up to one round trip), or undefined before the first reply. */
  now(): number | undefined
}

/**
 * A {@link RedisClock} whose deadlines are never early. `redisNow - sentAt` is an upper bound of the
 * offset between Redis's clock and `performance.now()` (Redis ran the call after it was sent), so a
 * deadline computed from it is at least `budgetMs` after the send in Redis time, whatever the skew
 * between the two hosts. The tightest bound seen wins; it is replaced by a fresh one every 10 s so a
 * Redis clock that steps forward (or a failover to another host) is followed. Until the first reply
 * there is no deadline (the cancel alone protects those calls).
 */
export function redisClock(budgetMs: number): RedisClock {
  let offset: number | undefined
  let learnedAt = 0
  return {
    deadline(sentAt) {
      return offset === undefined ? undefined : Math.ceil(sentAt + offset + budgetMs)
    },
    now() {
      return offset === undefined ? undefined : performance.now() + offset
    },
    observe(sentAt, redisNow) {
      if (!Number.isFinite(redisNow)) return
      const bound = redisNow - sentAt
      const now = performance.now()
      if (offset === undefined || bound <= offset || now - learnedAt > 10_000) {
        offset = bound
        learnedAt = now
      }
    },
  }
}

/** Options of {@link retryQueue}. */
export interface RetryQueueOptions {
  /** Runs the call for one reservation id (a cancel, a settle); rejects when Redis did not take it. */
  send(id: string): Promise<unknown>
  /** Told once per id that Redis did not take within `giveUpMs`. */
  onGiveUp(id: string, error: unknown): void
  /** How long an id is retried; after that its reserve, if it ever ran, has long been cancelled or expired. */
  giveUpMs: number
  /** @default 1000 */
  retryMs?: number
  /** @default 100_000 */
  max?: number
}

/**
 * Calls that must reach Redis (a cancel, a settle): sent at once (so a cancel queues behind the
 * reserve it cancels on the same connection) and retried every `retryMs` until Redis takes them.
 * One call per id is in flight at a time: the client keeps its own queue in order, so nothing is
 * sent twice meanwhile. Both calls are idempotent by id, so a retry of one that did run is harmless.
 */
export function retryQueue({
  send: run,
  onGiveUp,
  giveUpMs,
  retryMs = 1000,
  max = 100_000,
}: RetryQueueOptions) {
  const pending = new Map<string, number>()
  const inFlight = new Set<string>()
  let timer: ReturnType<typeof setTimeout> | undefined
  const schedule = () => {
    if (timer !== undefined || pending.size === inFlight.size) return
    timer = setTimeout(() => {
      timer = undefined
      flush()
    }, retryMs)
    ;(timer as { unref?: () => void }).unref?.()
  }
  const send = (id: string) => {
    inFlight.add(id)
    run(id).then(
      () => {
        inFlight.delete(id)
        pending.delete(id)
      },
      (error: unknown) => {
        inFlight.delete(id)
        const since = pending.get(id)
        if (since !== undefined && performance.now() - since > giveUpMs) {
          pending.delete(id)
          onGiveUp(id, error)
        }
        schedule()
      },
    )
  }
  function flush() {
    for (const id of pending.keys()) if (!inFlight.has(id)) send(id)
    schedule()
  }
  return {
    /** Send `id`'s call now and until Redis takes it. */
    add(id: string) {
      if (pending.has(id)) return
      pending.set(id, performance.now())
      if (pending.size > max) {
        const oldest = pending.keys().next().value as string
        pending.delete(oldest)
        onGiveUp(oldest, new Error('too many pending calls'))
      }
      send(id)
    },
    /** Ids not yet confirmed (for tests and diagnostics). */
    get size() {
      return pending.size
    },
  }
}
