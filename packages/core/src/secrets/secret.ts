// The value lives here, never on the object, so no reflection, spreading or serializer can reach it.
const values = new WeakMap<Secret, string>()
const inspectSymbol = /* @__PURE__ */ Symbol.for('nodejs.util.inspect.custom')
// Symbol.for: a Secret made by another copy of keyguard (the ESM and CJS builds in one process, or two
// versions) carries the same brand, so every copy accepts it. Its value stays in its own copy's
// WeakMap, reached through its own `reveal()`.
const brand = /* @__PURE__ */ Symbol.for('keyguard.secret')
const encoder = /* @__PURE__ */ new TextEncoder()

/**
 * A secret string that prints `<redacted:NAME>` in every view: `String()`, template literals,
 * `JSON.stringify`, Node's `util.inspect` and `console.log`, spreading, `Object.entries` and
 * structured loggers. Only {@link Secret.reveal} returns the value.
 *
 * @example
 * ```ts
 * const key = Secret.from('sk-proj-…', 'OPENAI_API_KEY')
 * console.log(`${key}`) // <redacted:OPENAI_API_KEY>
 * await fetch(url, { headers: { authorization: `Bearer ${key.reveal()}` } })
 * ```
 */
export class Secret {
  /** A label for logs, such as the variable the secret came from. @default 'secret' */
  readonly name: string

  private constructor(value: string, name: string) {
    this.name = name
    values.set(this, value)
    Object.defineProperty(this, brand, { value: true })
    // What Node's `util.inspect` and `console.log` print. An own property rather than a method with a
    // computed key, which would make bundlers keep this class in every bundle that imports core.
    Object.defineProperty(this, inspectSymbol, { value: redactedView })
    Object.freeze(this)
  }

  /**
   * Wrap a value. A {@link Secret} passed in is returned as it is (renamed when `name` is given).
   *
   * @example
   * ```ts
   * const token = Secret.from(input, 'ADMIN_TOKEN')
   * ```
   */
  static from(value: string | Secret, name?: string): Secret {
    if (Secret.isSecret(value)) return name === undefined ? value : new Secret(value.reveal(), name)
    if (typeof value !== 'string') throw new TypeError('Secret.from expects a string')
    return new Secret(value, name ?? 'secret')
  }

  /**
   * Whether a value is a {@link Secret}.
   *
   * @example
   * ```ts
   * const text = Secret.isSecret(input) ? input.reveal() : input
   * ```
   */
  static isSecret(value: unknown): value is Secret {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true
  }

  /** `instanceof Secret` holds for a Secret from any copy of keyguard, as {@link Secret.isSecret} does. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return Secret.isSecret(value)
  }

  /**
   * The value itself. Call it only where the value is sent to its destination.
   *
   * @example
   * ```ts
   * headers.set('authorization', `Bearer ${key.reveal()}`)
   * ```
   */
  reveal(): string {
    const value = values.get(this)
    if (value === undefined) throw new TypeError('not a Secret')
    return value
  }

  /**
   * Compare with another secret or string in constant time: both are hashed with SHA-256 through
   * Web Crypto, then every byte of the digests is compared.
   *
   * @example
   * ```ts
   * if (!(await adminToken.equals(request.headers.get('x-admin-token') ?? ''))) return deny()
   * ```
   */
  async equals(other: Secret | string): Promise<boolean> {
    const otherValue = Secret.isSecret(other) ? other.reveal() : other
    if (typeof otherValue !== 'string') return false
    const [a, b] = await Promise.all([
      crypto.subtle.digest('SHA-256', encoder.encode(this.reveal())),
      crypto.subtle.digest('SHA-256', encoder.encode(otherValue)),
    ])
    const left = new Uint8Array(a)
    const right = new Uint8Array(b)
    let difference = 0
    for (let index = 0; index < left.length; index++) difference |= (left[index] ?? 0) ^ (right[index] ?? 0)
    return difference === 0
  }

  /** `<redacted:NAME>`. */
  toString(): string {
    return `<redacted:${this.name}>`
  }

  /** `<redacted:NAME>`, so `JSON.stringify` and structured loggers see no value. */
  toJSON(): string {
    return this.toString()
  }

  /** `<redacted:NAME>` for template literals and string concatenation. */
  [Symbol.toPrimitive](): string {
    return this.toString()
  }

  get [Symbol.toStringTag](): string {
    return 'Secret'
  }
}

function redactedView(this: Secret): string {
  return this.toString()
}
