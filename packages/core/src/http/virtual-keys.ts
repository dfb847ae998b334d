import { sha256 } from '@noble/hashes/sha2'
import { KeyguardError } from '../errors/keyguard-error'

/** Who a caller is, as the limits see it: `{ tenant: 'acme', user: 'u9' }`. */
export type VirtualKeyScope = Readonly<Record<string, string | undefined>>

/** Looks callers up by the key they present; only hashes are kept. */
export interface VirtualKeys {
  /** The scope of the key presented, or `undefined` when it matches none (looked up by its SHA-256). */
  find(presented: string): VirtualKeyScope | undefined | Promise<VirtualKeyScope | undefined>
}

const hashPrefix = 'sha256:'
const encoder = /* @__PURE__ */ new TextEncoder()

/**
 * Hash a virtual key the way {@link virtualKeys} stores it (`sha256:<hex>`), so configuration and
 * databases hold the hash, never the key. Virtual keys must be random (see {@link generateVirtualKey}).
 *
 * @example
 * ```ts
 * const hash = await hashVirtualKey('kg-3fJ9…') // 'sha256:5e88…'
 * ```
 */
export async function hashVirtualKey(key: string): Promise<string> {
  return hashPrefix + digestHex(key)
}

/**
 * Make a new random virtual key (`kg-` and 32 base62 characters, about 190 bits) to hand to a caller.
 *
 * @example
 * ```ts
 * const key = generateVirtualKey() // give it to the caller once; store hashVirtualKey(key)
 * ```
 */
export function generateVirtualKey(prefix = 'kg-'): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  // 248 is the largest multiple of 62 below 256: rejecting bytes above it keeps every character equally likely.
  let key = ''
  while (key.length < 32) {
    for (const byte of bytes) if (byte < 248 && key.length < 32) key += alphabet[byte % 62]
    crypto.getRandomValues(bytes)
  }
  return prefix + key
}

/**
 * The virtual keys callers of an OpenAI-compatible proxy authenticate with, each mapped to a scope.
 * Give hashes (`sha256:…` from {@link hashVirtualKey}) or, in development, the keys themselves (hashed at
 * once). A lookup hashes the presented key (SHA-256, synchronously: no thread hop) and looks the digest
 * up in a map, so 1,000 keys cost what one does. Looking up a digest leaks nothing a constant-time
 * compare would protect: an attacker who learns how much of a digest matched learns nothing about a key.
 *
 * @example
 * ```ts
 * const keys = virtualKeys({
 *   'sha256:5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8': { tenant: 'acme' },
 * })
 * const scope = await keys.find(bearerToken) // { tenant: 'acme' } or undefined
 * ```
 */
export function virtualKeys(entries: Readonly<Record<string, VirtualKeyScope>>): VirtualKeys {
  const byDigest = new Map<string, VirtualKeyScope>()
  for (const [key, scope] of Object.entries(entries)) {
    const hex = key.startsWith(hashPrefix) ? checkedHex(key.slice(hashPrefix.length)) : digestHex(key)
    byDigest.set(hex, Object.freeze({ ...scope }))
  }
  return {
    find: (presented) => byDigest.get(digestHex(presented)),
  }
}

function digestHex(value: string): string {
  return toHex(sha256(encoder.encode(value)))
}

const hexOfByte = /* @__PURE__ */ (() =>
  Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0')))()

function toHex(bytes: Uint8Array): string {
  let hex = ''
  for (const byte of bytes) hex += hexOfByte[byte]
  return hex
}

function checkedHex(hex: string): string {
  if (!/^[0-9a-f]{64}$/i.test(hex))
    throw new KeyguardError({
      code: 'config.invalid',
      message: 'virtualKeys: an entry starting with sha256: must have 64 hex digits after it',
      problems: [
        {
          code: 'bad_hash',
          path: 'virtualKeys',
          message: 'a sha256: entry is not 64 hex digits',
          fix: 'store the value hashVirtualKey(key) returns',
        },
      ],
    })
  return hex.toLowerCase()
}
