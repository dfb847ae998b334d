import type { KeyguardStore } from '../limits/store'
import type { OwnedObject } from './proxy-routes'
import type { VirtualKeyScope } from './virtual-keys'

/** Where the proxy keeps who created each stored object, and who is asking. */
export interface ProxyOwnership {
  /** The caller, as owners are recorded. */
  owner: string
  /** The guard's store, when it records owners (`claim` and `ownerOf`); without it nothing stored is served. */
  store: Pick<Required<KeyguardStore>, 'claim' | 'ownerOf'> | undefined
  /** How long a claim is kept. */
  ttlMs: number
}

/**
 * The owner name of a virtual key's scope: every defined entry, sorted, so `{ tenant, user }` and
 * `{ user, tenant }` are one owner and two users of a tenant are two.
 *
 * @example
 * ```ts
 * ownerOfScope({ tenant: 'acme' }) // 'tenant=acme'
 * ```
 */
export function ownerOfScope(scope: VirtualKeyScope): string {
  return Object.entries(scope)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&')
}

/**
 * Whether the caller created the object: recorded as its owner in the store. An unknown id, an
 * expired claim and a store that records no owners all answer `false`.
 *
 * @example
 * ```ts
 * if (!(await ownsObject(ownership, 'resp_123'))) return unknownObjectResponse('response', 'resp_123')
 * ```
 */
export async function ownsObject(ownership: ProxyOwnership, objectId: string): Promise<boolean> {
  if (!ownership.store) return false
  return (await ownership.store.ownerOf(objectId)) === ownership.owner
}

/**
 * OpenAI's own answer to an id it does not know, so another caller's object and a missing one look
 * the same: 404, `invalid_request_error`, no keyguard headers.
 *
 * @example
 * ```ts
 * return unknownObjectResponse('response', 'resp_123') // "No response found with id 'resp_123'."
 * ```
 */
export function unknownObjectResponse(object: OwnedObject, id: string): Response {
  const message =
    object === 'response'
      ? `No response found with id '${id}'.`
      : `Chat completion with id '${id}' not found.`
  return Response.json(
    { error: { message, type: 'invalid_request_error', param: null, code: null } },
    { status: 404 },
  )
}

/**
 * OpenAI's answer to a `previous_response_id` it does not know (400 `previous_response_not_found`).
 *
 * @example
 * ```ts
 * return unknownPreviousResponse('resp_123')
 * ```
 */
export function unknownPreviousResponse(id: string): Response {
  return Response.json(
    {
      error: {
        message: `Previous response with id '${id}' not found.`,
        type: 'invalid_request_error',
        param: 'previous_response_id',
        code: 'previous_response_not_found',
      },
    },
    { status: 400 },
  )
}

// Fields that name an object stored at OpenAI by id. The proxy creates none of these (files, vector
// stores, conversations, containers, items), so a caller can only have learnt the id elsewhere.
const referenceKeys = new Set(['file_id', 'file_ids', 'vector_store_ids', 'conversation', 'container'])
// Caller-written data whose keys are the caller's own names (JSON schemas, tool parameters, metadata):
// a schema property called `conversation` names no stored object.
const freeFormKeys = new Set(['schema', 'parameters', 'metadata'])

/**
 * The first field of a request body that points at a stored object the proxy cannot vouch for
 * (`file_id`, `file_ids`, `vector_store_ids`, `conversation`, `container`, `audio.id`, an `item_reference`),
 * as a path such as `input[0].content[1].file_id`; `undefined` when there is none. JSON schemas, tool
 * parameters and metadata are not searched. `previous_response_id` is checked against ownership instead.
 *
 * @example
 * ```ts
 * foreignReference({ tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }] }) // 'tools[0].vector_store_ids'
 * ```
 */
export function foreignReference(value: unknown, path = '', depth = 0): string | undefined {
  // Deeper than any OpenAI body nests: refuse rather than walk an attacker's structure.
  if (depth > 64) return path || '(body)'
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = foreignReference(item, `${path}[${index}]`, depth + 1)
      if (found) return found
    }
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const record = value as Record<string, unknown>
  if (record.type === 'item_reference') return path || '(body)'
  for (const [key, child] of Object.entries(record)) {
    const at = path ? `${path}.${key}` : key
    if (freeFormKeys.has(key)) continue
    // An assistant message's `audio: { id }` replays an earlier audio answer kept at OpenAI.
    if (key === 'audio' && typeof (child as { id?: unknown } | null)?.id === 'string') return at
    // A container given as an id; `{ type: 'auto' }` makes a new one.
    if (
      referenceKeys.has(key) &&
      child !== null &&
      child !== undefined &&
      !(key === 'container' && typeof child === 'object' && (child as { type?: unknown }).type === 'auto')
    )
      return at
    const found = foreignReference(child, at, depth + 1)
    if (found) return found
  }
  return undefined
}

/**
 * Record the caller as the owner of the object a JSON answer created (its top-level `id`).
 *
 * @example
 * ```ts
 * await claimFromJson(ownership, await upstream.arrayBuffer())
 * ```
 */
export async function claimFromJson(
  ownership: ProxyOwnership,
  body: ArrayBuffer | Uint8Array,
): Promise<void> {
  let id: unknown
  try {
    id = (JSON.parse(new TextDecoder().decode(body)) as { id?: unknown } | null)?.id
  } catch {
    return
  }
  if (typeof id === 'string' && id !== '') await claim(ownership, id)
}

/** The most of a stream read while looking for the object's id before passing it on regardless. */
const CLAIM_LOOKAHEAD_BYTES = 65_536

/**
 * Pass an SSE answer through, holding back its first bytes until the created object's id (the
 * `response.id` of Responses events, the `id` of chat chunks) is recorded as the caller's, so the
 * caller never holds an id it cannot read back yet.
 *
 * @example
 * ```ts
 * return new Response(claimFromStream(ownership, upstream.body), upstream)
 * ```
 */
export function claimFromStream(
  ownership: ProxyOwnership,
  body: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder()
  let held: Uint8Array[] = []
  let text = ''
  let size = 0
  let done = false
  const release = (controller: TransformStreamDefaultController<Uint8Array>) => {
    for (const chunk of held) controller.enqueue(chunk)
    held = []
    done = true
  }
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      async transform(chunk, controller) {
        if (done) return controller.enqueue(chunk)
        held.push(chunk)
        size += chunk.byteLength
        text += decoder.decode(chunk, { stream: true })
        const id = idInEvents(text)
        if (id) await claim(ownership, id).catch(() => {})
        if (id || size > CLAIM_LOOKAHEAD_BYTES) release(controller)
      },
      flush(controller) {
        release(controller)
      },
    }),
  )
}

function idInEvents(text: string): string | undefined {
  for (const line of text.split('\n').slice(0, -1)) {
    if (!line.startsWith('data:')) continue
    try {
      const data = JSON.parse(line.slice(5)) as { id?: unknown; response?: { id?: unknown } }
      const id = data.response?.id ?? data.id
      if (typeof id === 'string' && id !== '') return id
    } catch {}
  }
  return undefined
}

async function claim(ownership: ProxyOwnership, objectId: string): Promise<void> {
  await ownership.store?.claim({ objectId, owner: ownership.owner, ttlMs: ownership.ttlMs })
}
