import { tokenUpperBound } from './count-tokens'
import type { Tally } from './tally'
import { joinsSystem, responseFormatInput, type ToolsPrompt, toolsInput } from './tools-input'

// OpenAI's published chat counting rules: 3 tokens per message, 1 more for a name, 3 to prime the reply;
// a legacy `function` message 2 fewer, an assistant's `function_call` its name, arguments and 3 more.
const PER_MESSAGE = 3
const PER_NAME = 1
const REPLY_PRIMING = 3
const FUNCTION_RESULT = -2
const FUNCTION_CALL = 3

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)

/** State of one walk over a conversation. */
interface Walk {
  tools: ToolsPrompt
  /** Set once the first system message took the tools' line break. */
  systemJoined: boolean
  /** Function names by call id, so a tool result is charged the name it answers. */
  callNames: Map<string, string>
}

const isSystem = (role: unknown) => role === 'system' || role === 'developer'

function contentPart(tally: Tally, part: unknown) {
  if (typeof part === 'string') return tally.text(part)
  if (!isObject(part)) return
  switch (part.type) {
    case 'text':
    case 'input_text':
    case 'output_text':
      return tally.text(part.text)
    case 'refusal':
      return tally.text(part.refusal)
    case 'image_url':
      return isObject(part.image_url)
        ? tally.image(part.image_url.url, part.image_url.detail)
        : tally.image(part.image_url, undefined)
    case 'input_image':
      return tally.image(part.image_url, part.detail)
    case 'input_audio':
      return isObject(part.input_audio)
        ? tally.audio(part.input_audio.data, part.input_audio.format)
        : tally.unknowable()
    case 'file':
    case 'input_file':
      return tally.unknowable()
    default:
      return tally.json(part)
  }
}

function content(tally: Tally, value: unknown): void {
  if (typeof value === 'string') tally.text(value)
  else if (Array.isArray(value)) for (const part of value) contentPart(tally, part)
}

function message(tally: Tally, item: Json, walk: Walk): void {
  tally.tokens += PER_MESSAGE
  const role = str(item.role)
  if (role) tally.short(role)
  const name = str(item.name)
  if (name) {
    tally.short(name)
    tally.tokens += PER_NAME
  }
  if (walk.tools.present && !walk.systemJoined && isSystem(role)) {
    walk.systemJoined = true
    // The tools follow the first system message after a line break, counted with its text.
    if (typeof item.content === 'string') tally.text(`${item.content}\n`)
    else {
      content(tally, item.content)
      tally.tokens += 1
      tally.exact = false
    }
  } else content(tally, item.content)
  if (role === 'function') tally.tokens += FUNCTION_RESULT
  if (role === 'tool') toolResult(tally, walk, item.tool_call_id)
  if (Array.isArray(item.tool_calls))
    for (const [index, call] of item.tool_calls.entries()) toolCall(tally, walk, call, index)
  if (isObject(item.function_call)) {
    // The legacy form, published: name, arguments and 3.
    tally.text(str(item.function_call.name))
    tally.text(str(item.function_call.arguments))
    tally.tokens += FUNCTION_CALL
  }
  if (isObject(item.audio)) tally.unknowable()
}

// Tool calls (`tool_calls`, Responses `function_call` items) are not in any published count. Each is
// charged as the published legacy `function_call` (name, arguments, 3) plus, after the first, a message's
// framing, as a call may be rendered as a message of its own; the count is marked inexact.
function toolCall(tally: Tally, walk: Walk, call: unknown, index: number): void {
  const fn = isObject(call) && isObject(call.function) ? call.function : isObject(call) ? call : undefined
  const name = fn ? str(fn.name) : undefined
  if (!fn || name === undefined) {
    tally.json(call)
    return
  }
  tally.exact = false
  tally.text(name)
  tally.text(str(fn.arguments))
  tally.tokens += FUNCTION_CALL + (index > 0 ? PER_MESSAGE + 1 : 0)
  const id = isObject(call) ? (str(call.id) ?? str(call.call_id)) : undefined
  if (id !== undefined) walk.callNames.set(id, name)
}

// A tool result: charged the name of the function it answers and a name's token (as a named message),
// without the legacy `function` message's 2 fewer; unpublished, so inexact.
function toolResult(tally: Tally, walk: Walk, callId: unknown): void {
  tally.exact = false
  const name = typeof callId === 'string' ? walk.callNames.get(callId) : undefined
  if (name !== undefined) {
    tally.short(name)
    tally.tokens += PER_NAME
  } else if (typeof callId === 'string') {
    // The call is not in this request (an earlier turn): its id is longer than any name it stands for.
    tally.text(callId)
    tally.tokens += PER_NAME
  }
}

const newWalk = (tools: ToolsPrompt): Walk => ({ tools, systemJoined: false, callNames: new Map() })

export async function chatInput(tally: Tally, body: Json, model: string): Promise<void> {
  const walk = newWalk(await toolsInput(tally, body, 'chat', model))
  const messages = Array.isArray(body.messages) ? body.messages : []
  for (const item of messages) {
    if (isObject(item)) message(tally, item, walk)
    await tally.turn()
  }
  tally.tokens += REPLY_PRIMING
  joinsSystem(tally, walk.tools, walk.systemJoined)
  responseFormatInput(tally, body.response_format)
  if (isObject(body.prediction)) content(tally, body.prediction.content)
}

function responsesItem(tally: Tally, item: unknown, walk: Walk) {
  if (!isObject(item)) return
  const type = item.type ?? (item.role ? 'message' : undefined)
  switch (type) {
    case 'message':
      return message(tally, item, walk)
    case 'function_call':
      tally.tokens += PER_MESSAGE
      return toolCall(tally, walk, item, 0)
    case 'function_call_output':
      tally.tokens += PER_MESSAGE
      toolResult(tally, walk, item.call_id)
      return typeof item.output === 'string' ? tally.text(item.output) : content(tally, item.output)
    case 'reasoning':
      // Encrypted reasoning is billed as input; its size is bounded by its byte length.
      if (Array.isArray(item.summary)) for (const part of item.summary) contentPart(tally, part)
      if (typeof item.encrypted_content === 'string') {
        tally.exact = false
        tally.tokens += tokenUpperBound(item.encrypted_content)
      }
      return
    case 'item_reference':
      // An item stored upstream (an earlier output, a file's content): its size is not in the body.
      return tally.unknowable()
    default:
      return tally.json(item)
  }
}

export async function responsesInput(tally: Tally, body: Json, model: string): Promise<void> {
  const walk = newWalk(await toolsInput(tally, body, 'responses', model))
  if (typeof body.instructions === 'string')
    message(tally, { role: 'developer', content: body.instructions }, walk)
  if (typeof body.input === 'string') message(tally, { role: 'user', content: body.input }, walk)
  else if (Array.isArray(body.input))
    for (const item of body.input) {
      responsesItem(tally, item, walk)
      await tally.turn()
    }
  tally.tokens += REPLY_PRIMING
  joinsSystem(tally, walk.tools, walk.systemJoined)
  if (isObject(body.text)) responseFormatInput(tally, body.text.format)
  // Earlier turns, a stored conversation or a stored prompt: billed as input, invisible here.
  if (body.previous_response_id || body.conversation) tally.unknowable()
  if (isObject(body.prompt)) {
    tally.unknowable()
    tally.json(body.prompt.variables)
  }
}

export async function embeddingsInput(tally: Tally, input: unknown): Promise<void> {
  if (typeof input === 'string') return tally.text(input)
  if (!Array.isArray(input)) return
  for (const entry of input) {
    await tally.turn()
    if (typeof entry === 'string') tally.text(entry)
    else if (typeof entry === 'number') tally.tokens += 1
    else if (Array.isArray(entry)) tally.tokens += entry.length
  }
}
