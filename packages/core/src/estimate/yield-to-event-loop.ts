/**
 * Give the event loop one turn (timers, I/O, other requests) before going on. A `MessageChannel`
 * message is a task like `setTimeout(0)`, but fake timers (`vi.useFakeTimers()`, sinon) leave it
 * alone: with `setTimeout`, an app whose tests fake timers would see a large estimate never finish.
 *
 * @example
 * ```ts
 * if (Date.now() - since > 5) await yieldToEventLoop()
 * ```
 */
export function yieldToEventLoop(): Promise<void> {
  if (typeof MessageChannel !== 'function') return new Promise((resolve) => setTimeout(resolve, 0))
  return new Promise((resolve) => {
    const channel = new MessageChannel()
    channel.port1.onmessage = () => {
      // An open port keeps a Node process alive; this one has done its work.
      channel.port1.close()
      resolve()
    }
    channel.port2.postMessage(undefined)
  })
}
