import fc from 'fast-check'

const identifier = fc.stringMatching(/^[a-z][a-z_]{0,11}$/)
const description = fc.option(
  fc.string({ minLength: 1, maxLength: 60 }).filter((text) => !text.includes('\n')),
  {
    nil: undefined,
  },
)

const withDescription = (schema: Record<string, unknown>, text: string | undefined) =>
  text === undefined ? schema : { ...schema, description: text }

/** A property schema in the subset OpenAI's published rendering covers. */
const leaf = fc.oneof(
  fc.constant({ type: 'string' }),
  fc.constant({ type: 'number' }),
  fc.constant({ type: 'integer' }),
  fc.constant({ type: 'boolean' }),
  fc.array(fc.string({ minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 4 }).map((values) => ({
    type: 'string',
    enum: values,
  })),
)

const property: fc.Arbitrary<Record<string, unknown>> = fc.letrec<{ node: Record<string, unknown> }>(
  (tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      tie('node').map((items) => ({ type: 'array', items })),
      fc
        .dictionary(identifier, tie('node'), { maxKeys: 3 })
        .map((properties) => ({ type: 'object', properties })),
    ),
  }),
).node

/** One function definition (`{ name, description?, parameters }`) with random properties. */
export const functionDefinition = fc
  .record({
    name: identifier,
    description,
    properties: fc.dictionary(identifier, fc.tuple(property, description), { maxKeys: 4 }),
    requiredShare: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ name, description: text, properties, requiredShare }) => {
    const entries = Object.entries(properties).map(([key, [schema, about]]) => [
      key,
      withDescription(schema, about),
    ])
    const required = entries.slice(0, Math.round(entries.length * requiredShare)).map(([key]) => key)
    return withDescription(
      { name, parameters: { type: 'object', properties: Object.fromEntries(entries), required } },
      text,
    )
  })
