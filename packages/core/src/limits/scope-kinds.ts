import { closestName } from '../config/closest-name'
import type { KeyguardProblem } from '../errors/keyguard-error'
import type { LimitPolicy, RequestScope } from './limit-policy'

/**
 * The scope kinds every guard accepts, whatever its limits: `key` picks the key (and defaults to the
 * configured one), `model` is filled from the request body, `tenant` and `user` name who pays in events.
 */
const builtInScopeKinds = ['key', 'model', 'tenant', 'user'] as const

/** A scope kind every guard accepts: `key`, `model`, `tenant` or `user`. */
export type BuiltInScopeKind = (typeof builtInScopeKinds)[number]

/**
 * The scope a guard accepts, typed from its limits' kinds plus the built-in ones, so a misspelt kind
 * (`{ tennant: 't1' }`) does not compile. Limits typed only as `string` kinds accept any kind.
 *
 * @example
 * ```ts
 * const scope: ScopeOf<'tenant' | 'workspace'> = { tenant: 't1', workspace: 'w9', user: 'u1' }
 * ```
 */
export type ScopeOf<Kind extends string> = string extends Kind
  ? RequestScope
  : { readonly [K in Exclude<Kind, 'global'> | BuiltInScopeKind]?: string | undefined }

/**
 * @internal A problem for each kind in `scope` that is neither built in nor named by a limit (so a
 * misspelt `tennant` is an error, not a scope nobody reads), with the closest known kind.
 */
export function unknownScopeKindProblems(
  scope: unknown,
  policies: readonly LimitPolicy[],
  label: string,
): KeyguardProblem[] {
  if (scope === undefined) return []
  if (typeof scope !== 'object' || scope === null || Array.isArray(scope))
    return [
      {
        code: 'scope_not_an_object',
        path: 'scope',
        message: `${label}: the scope must be an object such as { tenant: 't1' }`,
        fix: "pass an object of scope kinds to ids: { tenant: 't1', user: 'u9' }",
      },
    ]
  const known = new Set<string>(builtInScopeKinds)
  for (const policy of policies) if (policy.scope !== 'global') known.add(policy.scope)
  const problems: KeyguardProblem[] = []
  for (const kind of Object.keys(scope)) {
    if (known.has(kind)) continue
    const closest = closestName(kind, known)
    problems.push({
      code: 'scope_kind_unknown',
      path: `scope.${kind}`,
      message: `${label}: unknown scope kind \`${kind}\`${closest ? `; did you mean \`${closest}\`?` : ''}`,
      fix: closest
        ? `rename it to ${closest}`
        : `use a kind a limit is keyed by or a built-in one: ${[...known].join(', ')}`,
    })
  }
  return problems
}
