/**
 * A WeakMap shared by every copy of keyguard in this process: the ESM and CommonJS builds loaded
 * side by side, or two versions. It lives on `globalThis` under a `Symbol.for` key, so a record one
 * copy writes (a guarded request, a fixed price) the other finds. Values must keep their shape
 * across versions.
 *
 * @internal
 * @example
 * ```ts
 * const byOwner = sharedWeakMap<object, GuardedRequest>('guarded-requests')
 * ```
 */
export function sharedWeakMap<K extends WeakKey, V>(name: string): WeakMap<K, V> {
  const registry = globalThis as unknown as Record<symbol, WeakMap<K, V> | undefined>
  const key = Symbol.for(`keyguard.${name}`)
  let map = registry[key]
  if (!map) {
    map = new WeakMap<K, V>()
    Object.defineProperty(globalThis, key, {
      value: map,
      enumerable: false,
      configurable: false,
      writable: false,
    })
  }
  return map
}
