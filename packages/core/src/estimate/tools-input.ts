import { renderFunctions } from './function-prompt'
import type { Tally } from './tally'

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

// With functions, OpenAI's published counts are the rendered namespace plus 9 tokens (the tools section's
// headers), less 4 when a system message is present (the tools join it rather than opening their own
// message), and the first system message takes a line break before them.
const TOOLS_FRAME = 9
const JOINS_SYSTEM = 4
// A forced choice (`tool_choice: {function}` / `'required'`, legacy `function_call: {name}`): the name
// and about 4 tokens of framing; `'none'`: 1. Not in any published example, so marked inexact.
const FORCED_CHOICE = 4
const NO_CHOICE = 1

// Families whose tool counting OpenAI published (the token-counting cookbook: gpt-3.5-turbo, gpt-4,
// gpt-4o, gpt-4o-mini). Other families render tools in the same namespace form, but their framing is
// unpublished: the count is held higher, by 8 tokens and one per 64 characters of the rendering (about
// 6% of its tokens), and marked inexact.
const VERIFIED = /^(gpt-3\.5-turbo|gpt-4(?!\.)|gpt-4-turbo|gpt-4o|chatgpt-4o)/
const UNVERIFIED_MARGIN = { tokens: 8, charsPerToken: 64 }
// Definitions with more nodes than this are not rendered: rendering is one synchronous pass, which
// for the widest schema a body can hold kept the event loop ~300 ms. Their JSON, written piece by piece
// with turns of the event loop, plus the margin is counted instead (an upper bound: JSON's quotes and
// braces are the most any rendering takes, and pieces counted apart never merge into fewer tokens).
const RENDERED_AT_MOST_NODES = 2_000
// Below this depth a subtree is written in one go (the rendering stops recursing there too).
const PIECES_DEPTH = 8

/** Whether `value` has more than `budget` objects, arrays and leaves; stops counting past it. */
function larger(value: unknown, budget: number): boolean {
  const stack = [value]
  let seen = 0
  while (stack.length > 0) {
    const node = stack.pop()
    if (++seen > budget) return true
    if (Array.isArray(node)) stack.push(...node.slice(0, budget))
    else if (isObject(node)) for (const key in node) stack.push(node[key])
  }
  return false
}

/** `value` as JSON, in texts of about 512 characters, giving the event loop a turn as the work takes it. */
async function jsonInPieces(tally: Tally, value: unknown): Promise<void> {
  let piece = ''
  const write = async (text: string) => {
    piece += text
    if (piece.length < 512) return
    tally.text(piece)
    piece = ''
    await tally.turn()
  }
  const walk = async (node: unknown, depth: number): Promise<void> => {
    if (depth >= PIECES_DEPTH || (!Array.isArray(node) && !isObject(node))) {
      await write(JSON.stringify(node) ?? 'null')
      return
    }
    await write(Array.isArray(node) ? '[' : '{')
    if (Array.isArray(node))
      for (const item of node) {
        await walk(item, depth + 1)
        await write(',')
      }
    else
      for (const key in node) {
        await write(`${JSON.stringify(key)}:`)
        await walk(node[key], depth + 1)
        await write(',')
      }
    await write(Array.isArray(node) ? ']' : '}')
  }
  await walk(value, 0)
  tally.text(piece)
}

/** What the tools add to a request, found before its messages are counted. */
export interface ToolsPrompt {
  /** True when function definitions are rendered into the system message. */
  present: boolean
}

function definitionOf(tool: unknown, endpoint: 'chat' | 'responses', tally: Tally): unknown {
  if (!isObject(tool)) {
    tally.json(tool)
    return undefined
  }
  if (tool.type === 'function') {
    if (endpoint === 'responses') {
      const { type: _type, ...definition } = tool
      return definition
    }
    if (isObject(tool.function)) return tool.function
  }
  // A hosted tool (web or file search, code interpreter, MCP, computer use…) feeds the model what it
  // finds, billed as input that no request shows: held at the window. A custom tool's grammar is
  // rendered in a form not published: its JSON is the bound.
  tally.json(tool)
  if (tool.type !== 'custom') tally.unknowable()
  return undefined
}

/**
 * Counts a request's tool definitions (`tools`, legacy `functions`), `tool_choice` / `function_call` and
 * `parallel_tool_calls`, and says whether the system message takes them.
 */
export async function toolsInput(
  tally: Tally,
  body: Json,
  endpoint: 'chat' | 'responses',
  model: string,
): Promise<ToolsPrompt> {
  const definitions: unknown[] = []
  if (Array.isArray(body.tools))
    for (const tool of body.tools) {
      const definition = definitionOf(tool, endpoint, tally)
      if (definition !== undefined) definitions.push(definition)
    }
  if (Array.isArray(body.functions)) definitions.push(...body.functions)
  choice(tally, body.tool_choice ?? body.function_call)
  // `true` is the default and the published counts were taken with it; `false` is unpublished.
  if (body.parallel_tool_calls === false) tally.exact = false
  if (definitions.length === 0) return { present: false }

  if (larger(definitions, RENDERED_AT_MOST_NODES)) {
    tally.exact = false
    await jsonInPieces(tally, definitions)
    tally.tokens += TOOLS_FRAME + UNVERIFIED_MARGIN.tokens
    return { present: true }
  }
  const prompt = renderFunctions(definitions)
  if (!prompt.exact) tally.exact = false
  tally.tokens += TOOLS_FRAME
  tally.text(prompt.text)
  if (!VERIFIED.test(model)) {
    tally.exact = false
    tally.tokens += UNVERIFIED_MARGIN.tokens + Math.ceil(prompt.text.length / UNVERIFIED_MARGIN.charsPerToken)
  }
  return { present: true }
}

function choice(tally: Tally, value: unknown): void {
  if (value === undefined || value === 'auto') return
  tally.exact = false
  if (value === 'none') {
    tally.tokens += NO_CHOICE
    return
  }
  if (value === 'required') {
    tally.short(value)
    tally.tokens += FORCED_CHOICE
    return
  }
  const name = isObject(value)
    ? (value.name ?? (isObject(value.function) ? value.function.name : undefined))
    : undefined
  if (typeof name === 'string') {
    tally.short(name)
    tally.tokens += FORCED_CHOICE
  } else tally.json(value)
}

/** The tools' share of a system message: they join the first one, after a line break. */
export function joinsSystem(tally: Tally, tools: ToolsPrompt, hasSystem: boolean): void {
  if (tools.present && hasSystem) tally.tokens -= JOINS_SYSTEM
}

/** A structured-output format (`response_format` in chat, `text.format` in Responses). */
export function responseFormatInput(tally: Tally, format: unknown): void {
  if (!isObject(format) || format.type === 'text') return
  // OpenAI's rendering of a JSON schema is unpublished: the compact JSON of the whole format (its
  // name, description, strictness and schema) is the bound.
  tally.json(format)
}
