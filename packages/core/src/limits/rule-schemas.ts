import { z } from 'zod'

/** @internal Shared option schemas: names, scope kinds and non-negative integer amounts. */
export const nameSchema = z.string().min(1).optional()
export const scopeSchema = z.string().min(1)
export const countSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
export const positiveSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)
