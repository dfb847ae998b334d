import type { OptionKeys } from './check-options'

interface SchemaLike {
  _zod: {
    def: {
      type: string
      shape?: Record<string, SchemaLike>
      innerType?: SchemaLike
      options?: readonly SchemaLike[]
      in?: SchemaLike
    }
  }
}

/**
 * @internal The keys a zod object schema (zod or zod/mini, version 4) accepts, nested objects
 * included, for {@link checkOptions}; `true` for a schema that is not an object.
 *
 * @example
 * ```ts
 * checkOptions('spendLimit', options, optionKeysOf(schema) as OptionKeys)
 * ```
 */
export function optionKeysOf(schema: unknown): OptionKeys | true {
  const def = (schema as SchemaLike)._zod?.def
  if (!def) return true
  switch (def.type) {
    case 'object':
      return Object.fromEntries(
        Object.entries(def.shape ?? {}).map(([name, inner]) => [name, optionKeysOf(inner)]),
      )
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
      return optionKeysOf(def.innerType)
    case 'pipe':
      return optionKeysOf(def.in)
    case 'union': {
      const objects = (def.options ?? []).map(optionKeysOf).filter((keys) => keys !== true)
      if (objects.length === 0) return true
      return Object.assign(
        {},
        ...objects.map((keys) =>
          Array.isArray(keys) ? Object.fromEntries(keys.map((name) => [name, true])) : keys,
        ),
      )
    }
    default:
      return true
  }
}
