import type { Responders } from './create-responders'

/** The model ids `/v1/models` lists unless the options name others. */
export const defaultModels: readonly string[] = [
  'gpt-4o',
  'gpt-4o-mini',
  'gpt-4.1',
  'gpt-4.1-mini',
  'gpt-4.1-nano',
  'gpt-5',
  'gpt-5-mini',
  'gpt-5-nano',
  'o4-mini',
  'text-embedding-3-small',
  'text-embedding-3-large',
]

/**
 * Answer `GET /v1/models`: the list of model ids, owned by `system`.
 *
 * @example
 * ```ts
 * if (path === '/v1/models') return handleModels(models, created, respond)
 * ```
 */
export function handleModels(models: readonly string[], created: number, respond: Responders): Response {
  return respond.json(200, {
    object: 'list',
    data: models.map((id) => ({ id, object: 'model', created, owned_by: 'system' })),
  })
}
