// Request bodies built to make an estimator slow: each is near the 4 MiB body cap once serialized.
// Used by estimate-request.event-loop.node.test.ts (event-loop delay); bench/estimate-block.bench.mjs builds the same set.

const CAP = 4 * 1024 * 1024 - 64 * 1024

// A deterministic pseudo-random generator, so a failing body can be rebuilt.
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0
    return state / 2 ** 32
  }
}

function randomText(length: number, alphabet: readonly string[], seed: number): string {
  const next = random(seed)
  const parts: string[] = []
  let size = 0
  while (size < length) {
    const piece = alphabet[Math.floor(next() * alphabet.length)] as string
    parts.push(piece)
    size += piece.length
  }
  return parts.join('')
}

const base64Alphabet = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/']
const letters = [...'abcdefghijklmnopqrstuvwxyz']
const cjk = [...'的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生']
const emoji = ['😀', '🎉', '👍🏽', '🇺🇸', '👨‍👩‍👧', 'é', 'ñ']

/** Name → a function that builds that chat completions body (built one at a time, to keep the heap small). */
export function adversarialBodies(): Record<string, () => Record<string, unknown>> {
  // gpt-4.1: the largest context window, so the most text is counted before a body is found too large.
  const chat = (content: unknown) => ({ model: 'gpt-4.1', messages: [{ role: 'user', content }] })
  const tinyCount = Math.floor(CAP / 34)
  const deep = () => {
    let nested: unknown = 'x'
    for (let depth = 0; depth < 2000; depth++) nested = { a: nested }
    return nested
  }
  return {
    base64: () => chat(randomText(CAP, base64Alphabet, 1)),
    'one giant word': () => chat('a'.repeat(CAP)),
    'random letters': () => chat(randomText(CAP, letters, 2)),
    'one giant whitespace': () => chat(`x${' '.repeat(CAP)}y`),
    'many tiny messages': () => ({
      model: 'gpt-4.1',
      messages: Array.from({ length: tinyCount }, (_, index) => ({
        role: 'user',
        content: String(index % 10),
      })),
    }),
    'deep nesting': () => ({
      ...chat('hi'),
      tools: [{ type: 'function', function: { name: 'f', parameters: deep() } }],
    }),
    'wide schema': () => {
      // One function with as many required properties as fit: each rendered, each looked up.
      const names = Array.from({ length: Math.floor(CAP / 40) }, (_, index) => `property_${index}`)
      const properties = Object.fromEntries(names.map((name) => [name, { type: 'string' }]))
      return {
        ...chat('hi'),
        tools: [
          {
            type: 'function',
            function: { name: 'f', parameters: { type: 'object', properties, required: names } },
          },
        ],
      }
    },
    cjk: () => chat(randomText(CAP / 3, cjk, 3)),
    emoji: () => chat(randomText(CAP / 4, emoji, 4)),
  }
}
