import { audioTokenBound } from './audio-tokens'
import { type CountFn, countSlices, tokenUpperBound } from './count-tokens'
import { imageSize } from './image-size'
import { imageTokens } from './image-tokens'
import { yieldToEventLoop } from './yield-to-event-loop'

// Counting pauses for the event loop this often, so one large request never stalls other work.
const BUDGET_MS = 5
// A text up to this long is counted in one call (about a millisecond at worst); a longer one in slices
// of this size, so a busy machine that runs us slowly still gets a turn of the loop every few ms.
const ONE_CALL_CHARS = 512

/**
 * Counting state for one request: texts are collected while the body is walked and counted afterwards
 * in {@link Tally.count}, which gives the event loop a turn every few milliseconds.
 */
export class Tally {
  exact: boolean
  tokens = 0
  private readonly texts: string[] = []
  private readonly small = new Map<string, number>()
  constructor(
    private readonly counter: CountFn,
    exact: boolean,
    private readonly model: string,
  ) {
    this.exact = exact
  }
  text(value: unknown): void {
    if (typeof value === 'string' && value.length > 0) this.texts.push(value)
  }
  // Roles and names repeat on every message: counted once per request.
  short(value: string): void {
    let tokens = this.small.get(value)
    if (tokens === undefined) {
      tokens = value.length > ONE_CALL_CHARS ? tokenUpperBound(value) : this.counter(value)
      this.small.set(value, tokens)
    }
    this.tokens += tokens
  }
  // Schemas and unknown items: OpenAI renders them in its own format, unknown here, so their compact
  // JSON is counted instead (approximate, above the real count: JSON's quotes and braces are the most
  // any rendering of the same content takes).
  json(value: unknown): void {
    if (value === undefined) return
    this.exact = false
    this.text(typeof value === 'string' ? value : JSON.stringify(value))
  }
  image(url: unknown, detail: unknown): void {
    const image = imageTokens(this.model, detail, imageSize(url))
    if (!image.exact) this.exact = false
    this.tokens += image.tokens
  }
  /** Input audio tokens (part of `tokens`), billed at the audio input rate. */
  audioTokens = 0
  audio(data: unknown, format: unknown): void {
    const bound = audioTokenBound(data, format)
    if (bound === undefined) {
      this.unknowable()
      return
    }
    this.exact = false
    this.tokens += bound
    this.audioTokens += bound
  }
  /** Input not in the body (earlier turns, stored prompts, references) or not countable (audio, files). */
  unseen = false
  unknowable(): void {
    this.exact = false
    this.unseen = true
  }
  private since = Date.now()
  /** Gives the event loop a turn once the work since the last one took its budget. */
  async turn(): Promise<void> {
    if (Date.now() - this.since < BUDGET_MS) return
    await yieldToEventLoop()
    this.since = Date.now()
  }
  /**
   * Counts the collected texts, pausing for the event loop whenever a slice of work took its budget, and
   * stopping once the count is over `stopAbove` (the context window: the request is refused anyway), so
   * the work is bounded by the window, not by the body.
   */
  async count(stopAbove: number): Promise<number> {
    for (const text of this.texts) {
      if (this.tokens > stopAbove) break
      await this.turn()
      if (text.length <= ONE_CALL_CHARS || this.counter === tokenUpperBound) {
        this.tokens += this.counter(text)
        continue
      }
      const slices = countSlices(text, this.counter, { sliceChars: ONE_CALL_CHARS })
      let step = slices.next()
      while (!step.done && this.tokens + step.value <= stopAbove) {
        await this.turn()
        step = slices.next()
      }
      if (step.done) {
        this.tokens += step.value.tokens
        if (!step.value.exact) this.exact = false
      } else this.tokens += step.value
    }
    this.texts.length = 0
    return this.tokens
  }
}
