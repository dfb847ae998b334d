// Function definitions as the model reads them: OpenAI renders `tools` / `functions` into the system
// message as a TypeScript namespace, and bills the tokens of that text, not of the JSON that was sent.
//
//   namespace functions {
//
//   // Get the current weather in a given location
//   type get_current_weather = (_: {
//   // The city and state, e.g. San Francisco, CA
//   location: string,
//   unit?: "celsius" | "fahrenheit",
//   }) => any;
//
//   } // namespace functions
//
// This rendering reproduces every published count in `__fixtures__/published-counts.ts` to the token.
// What it does not know how OpenAI renders (a keyword outside the subset below, a nested description) is
// added as its compact JSON, which is longer than any TypeScript-like rendering of it, and the result is
// marked inexact.

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** The rendered text and whether it is known to be what OpenAI renders. */
export interface FunctionPrompt {
  text: string
  exact: boolean
}

// Keywords each schema node may carry that the rendering accounts for (`required` is read from the
// parent). Any other (`title`, `additionalProperties`, `format`, `default`…) is charged as JSON.
const PROPERTY_KEYS = new Set(['type', 'description', 'enum', 'items', 'properties', 'required'])
const PARAMETER_KEYS = new Set(['type', 'properties', 'required'])
const FUNCTION_KEYS = new Set(['name', 'description', 'parameters', 'strict'])
const MAX_DEPTH = 32

class Renderer {
  exact = true
  readonly lines: string[] = []

  // Keywords the rendering does not know are charged as JSON, once, beside the node.
  unknownKeys(node: Json, known: ReadonlySet<string>): string {
    const extra: Json = {}
    let any = false
    for (const key of Object.keys(node)) {
      if (!known.has(key)) {
        extra[key] = node[key]
        any = true
      }
    }
    if (!any) return ''
    this.exact = false
    return ` // ${JSON.stringify(extra)}`
  }

  private depth = 0

  type(schema: unknown, indent: number): string {
    // Deeper than any schema OpenAI accepts (it allows 10 levels of objects): charged as JSON, not walked.
    if (!isObject(schema) || this.depth >= MAX_DEPTH) {
      this.exact = false
      return JSON.stringify(schema) ?? 'any'
    }
    this.depth++
    try {
      return this.shape(schema, indent)
    } finally {
      this.depth--
    }
  }

  private shape(schema: Json, indent: number): string {
    const { type } = schema
    const values = schema.enum
    if (values !== undefined) {
      const rendered = Array.isArray(values) ? enumType(type, values) : undefined
      if (rendered !== undefined) return rendered
      this.exact = false
      return JSON.stringify(schema)
    }
    switch (type) {
      case 'string':
      case 'boolean':
      case 'null':
        return type
      case 'number':
      case 'integer':
        return 'number'
      case 'array':
        return schema.items === undefined ? 'any[]' : `${this.type(schema.items, indent)}[]`
      case 'object':
        return ['{', ...this.properties(schema, indent + 2), '}'].join('\n')
      default:
        // A type list, anyOf/oneOf/$ref or no type at all: shape unknown, charged as JSON.
        this.exact = false
        return JSON.stringify(schema)
    }
  }

  properties(schema: Json, indent: number): string[] {
    const lines: string[] = []
    const properties = isObject(schema.properties) ? schema.properties : {}
    // A Set: a schema may list thousands of properties, all required.
    const required = new Set(Array.isArray(schema.required) ? schema.required : [])
    for (const [name, property] of Object.entries(properties)) {
      const description = isObject(property) ? property.description : undefined
      if (typeof description === 'string' && description.length > 0) {
        // Nested descriptions (two levels in and deeper) were not shown in the published counts; whether
        // they are now is unverified, so they are charged and the count marked inexact.
        if (indent >= 2) this.exact = false
        lines.push(...comment(description, this))
      }
      const type = this.type(property, indent)
      const extra = isObject(property) ? this.unknownKeys(property, PROPERTY_KEYS) : ''
      lines.push(`${name}${required.has(name) ? '' : '?'}: ${type},${extra}`)
    }
    const pad = ' '.repeat(indent)
    return lines.map((line) => pad + line)
  }

  function(definition: unknown): void {
    if (!isObject(definition) || typeof definition.name !== 'string') {
      this.exact = false
      this.lines.push(`// ${JSON.stringify(definition)}`, '')
      return
    }
    const { name, description, parameters } = definition
    if (typeof description === 'string' && description.length > 0)
      this.lines.push(...comment(description, this))
    // `strict` is enforced while decoding, not written into the prompt as far as any published count
    // shows; unverified, so the count is marked inexact.
    if (definition.strict === true) this.exact = false
    const extra = this.unknownKeys(definition, FUNCTION_KEYS)
    const params = isObject(parameters) ? parameters : undefined
    if (parameters !== undefined && params === undefined) this.exact = false
    const hasProperties = params && isObject(params.properties) && Object.keys(params.properties).length > 0
    if (params && hasProperties) {
      this.lines.push(`type ${name} = (_: {${extra}`)
      this.lines.push(...this.properties(params, 0))
      this.lines.push(`}) => any;${this.unknownKeys(params, PARAMETER_KEYS)}`)
    } else {
      const more = params ? this.unknownKeys(params, PARAMETER_KEYS) : ''
      this.lines.push(`type ${name} = () => any;${extra}${more}`)
    }
    this.lines.push('')
  }
}

function enumType(type: unknown, values: unknown[]): string | undefined {
  if (values.length === 0) return undefined
  if (type === 'string' && values.every((value) => typeof value === 'string'))
    return values.map((value) => JSON.stringify(value)).join(' | ')
  if (
    (type === 'number' || type === 'integer') &&
    values.every((value) => typeof value === 'number' && Number.isFinite(value))
  )
    return values.map(String).join(' | ')
  return undefined
}

// A one-line description is rendered `// text`; a multi-line one is not in any published example, so each
// line is prefixed (the most it could take) and the count marked inexact.
function comment(text: string, renderer: Renderer): string[] {
  if (!text.includes('\n')) return [`// ${text}`]
  renderer.exact = false
  return text.split('\n').map((line) => `// ${line}`)
}

/**
 * Renders function definitions (`{ name, description?, parameters? }`, as in chat `tools[].function`,
 * Responses `tools[]` of type `function`, or legacy `functions[]`) into the namespace text OpenAI shows
 * the model.
 */
export function renderFunctions(definitions: readonly unknown[]): FunctionPrompt {
  const renderer = new Renderer()
  renderer.lines.push('namespace functions {', '')
  for (const definition of definitions) renderer.function(definition)
  renderer.lines.push('} // namespace functions')
  return { text: renderer.lines.join('\n'), exact: renderer.exact }
}
