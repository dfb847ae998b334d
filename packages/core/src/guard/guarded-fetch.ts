import { errorResponse } from '../errors/error-response'
import type { KeyguardError } from '../errors/keyguard-error'
import { estimateRequest, type RequestEstimate } from '../estimate/estimate-request'
import type { KeyRingKey } from '../keys/create-key-ring'
import type { RequestScope } from '../limits/limit-policy'
import type { Denial } from '../limits/store'
import { bufferedResponse } from './buffered-response'
import { estimateOptions } from './estimate-options'
import { fixedEstimateOf } from './fixed-price'
import { forwardRequest } from './forward-request'
import { droppedResponseHeaders, headerPairs } from './header-pairs'
import type { CircuitPass } from './key-circuits'
import type { SettleEvent } from './keyguard-events'
import { attachResult } from './keyguard-result'
import { backgroundRefusal, rewriteBody } from './prepare-request'
import { endpointOf, readRequest } from './read-request'
import { releaseReservation, reserveRequest } from './reserve-request'
import { asKeyguardError, scrub } from './scrub-error'
import { settleEventOf, settleUsage } from './settle-usage'
import type { Shared } from './shared'
import { streamCutFor } from './stream-cut-for'
import { abandonAfterMs, readJsonBody, type TappedUsage, tapUsage, untappedUsage } from './tap-usage'
import { classifyUpstreamError, upstreamErrorResponse } from './upstream-error-response'

/** The guarded `fetch` behind every guard: read, estimate, reserve, forward, tap the usage, settle. */
export async function guardedFetch(
  shared: Shared,
  baseScope: RequestScope,
  input: RequestInfo | URL,
  init: RequestInit | undefined,
): Promise<Response> {
  const { options, emitter } = shared
  const incoming = await readRequest(input, init, options.baseUrl)
  const endpoint = endpointOf(incoming.url.pathname)
  const upstreamUrl = `${options.baseUrl}${endpoint.slice(3)}${incoming.url.search}`
  const keyName = baseScope.key ?? options.defaultKey
  let scope: RequestScope = { ...baseScope, key: keyName }

  let circuit: CircuitPass | undefined
  const refuse = (error: KeyguardError, denial?: Denial, circuitOpen = false): Response => {
    circuit?.abandon()
    emitter.emit({ type: 'denied', scope, endpoint, error })
    if (denial?.kind === 'spend') emitter.emit({ type: 'hard-limit', ...denial })
    if (options.errors === 'throw') throw error
    const response = localErrorResponse(error, circuitOpen)
    return attachResult(response, {
      reservationId: undefined,
      scope,
      endpoint,
      estimate: null,
      states: [],
      error,
      settled: Promise.resolve(settleEventOf({ scope, endpoint, ending: 'refused' })),
    })
  }

  // A priced call whose body cannot be read or priced goes nowhere.
  if (incoming.problem) return refuse(incoming.problem)

  let key: KeyRingKey
  try {
    key = options.keys.get(keyName)
  } catch (error) {
    return refuse(asKeyguardError(error, options))
  }

  // A key OpenAI said is unusable (invalid, no quota) fails here, at once, until a probe is due.
  const entered = shared.circuits.enter(keyName)
  if ('open' in entered) return refuse(entered.open, undefined, true)
  circuit = entered

  // 1. parse
  let json = incoming.json
  const background = backgroundRefusal(options, endpoint, json)
  if (background) return refuse(background)

  // 2. estimate (a fixed price set in code stands in for one)
  const startedAt = options.now()
  const fixed = fixedEstimateOf(init, endpoint, json)
  let estimate: RequestEstimate | null = fixed ?? null
  // A call whose answer carries no usage to read is charged its whole hold.
  const chargeHold = fixed
    ? 'fixed'
    : endpoint === '/v1/responses' && json?.background === true
      ? 'background'
      : undefined
  if (json && !fixed) {
    try {
      estimate = await estimateRequest(endpoint, json, estimateOptions(options, startedAt, json.service_tier))
    } catch (error) {
      return refuse(asKeyguardError(error, options))
    }
  }
  // Model-scoped limits key on the price row the model resolves to (snapshots and aliases share one
  // budget); an unpriced endpoint keys on the body's model (a request naming none is refused by it).
  const model = estimate?.pricedAs ?? (typeof json?.model === 'string' ? json.model : undefined)
  if (model && scope.model === undefined) scope = { ...scope, model }
  // the body sent upstream: include_usage, the forwarded output bound
  const rewritten = rewriteBody(options, endpoint, json, estimate, incoming.text)
  json = rewritten.json
  let bodyText = rewritten.bodyText
  const { usageForced } = rewritten

  // 3. reserve (clamped to the budget when so configured)
  const reserved = await reserveRequest(shared, { scope, endpoint, json, estimate, bodyText, startedAt })
  if ('refusal' in reserved) return refuse(reserved.refusal, reserved.denial)
  const { reservationId, states, clampedTo } = reserved
  json = reserved.json
  estimate = reserved.estimate
  bodyText = reserved.bodyText
  const release = () => releaseReservation(shared, reservationId)

  // 4. forward with the real key; a failure returns the hold and ends a probe
  let upstream: Response
  try {
    const body = bodyText ?? incoming.body
    upstream = await forwardRequest(shared, { incoming, upstreamUrl, key, keyName, body })
  } catch (error) {
    await release()
    circuit.abandon()
    throw error
  }

  const responseHeaders = headerPairs(upstream.headers, droppedResponseHeaders)
  if (estimate) responseHeaders.push(['x-keyguard-estimate', String(estimate.maxCostNanos)])
  if (clampedTo !== undefined) responseHeaders.push(['x-keyguard-clamped-output-tokens', String(clampedTo)])

  // upstream error: nothing billed, the hold is returned
  if (!upstream.ok) {
    const text = await upstream.text().catch(() => '')
    await release()
    const { error, scrubbed } = classifyUpstreamError(options, upstream, text)
    emitter.emit({ type: 'upstream-error', scope, endpoint, error })
    const change = circuit.answered(error)
    if (change?.type === 'opened')
      emitter.emit({
        type: 'circuit-open',
        keyName,
        fingerprint: key.fingerprint,
        error,
        probeAt: change.probeAt,
      })
    if (options.errors === 'throw') throw error
    const response = upstreamErrorResponse(upstream, scrubbed, error, responseHeaders)
    const record = { scope, endpoint, estimate, states, reservationId }
    const event = settleEventOf({ ...record, ending: 'upstream-error' })
    return attachResult(response, { ...record, error, settled: Promise.resolve(event) })
  }

  if (circuit.answered(undefined)?.type === 'closed')
    emitter.emit({ type: 'circuit-closed', keyName, fingerprint: key.fingerprint })

  // 5-6. read usage as the body passes, then settle
  let resolveSettled: (event: SettleEvent) => void = () => {}
  const settled = new Promise<SettleEvent>((resolve) => {
    resolveSettled = resolve
  })
  const finish = (tapped: TappedUsage) => {
    settleUsage(shared, {
      scope,
      endpoint,
      estimate,
      reservationId,
      tapped,
      startedAt,
      chargeHold,
      upstreamRequestId: upstream.headers.get('x-request-id') ?? undefined,
    }).then(resolveSettled, (error: unknown) => {
      options.logger.error('keyguard: settling failed', { reservationId, error: scrub(error, options) })
      resolveSettled(
        settleEventOf({ scope, endpoint, estimate, ending: tapped.ending, reservationId, estimated: true }),
      )
    })
  }
  const contentType = upstream.headers.get('content-type') ?? ''
  // Only priced calls need their usage read; any other body (files, audio) is passed and only watched for its end.
  const format =
    !estimate || chargeHold
      ? 'pass'
      : contentType.includes('text/event-stream')
        ? 'sse'
        : contentType.includes('json')
          ? 'json'
          : 'pass'
  const cut =
    options.streamCut && format === 'sse' && estimate && json && reservationId !== undefined
      ? await streamCutFor(shared, { scope, endpoint, estimate, json, reservationId, startedAt })
      : undefined
  // JSON usage is read here, whatever the caller does with the body; a stream unread for a minute is
  // abandoned, so its hold and concurrency slot end; a usage chunk only keyguard asked for is dropped.
  const tapped = !upstream.body
    ? null
    : format === 'json'
      ? await readJsonBody(upstream, finish)
      : tapUsage(upstream.body, format, finish, { cut, dropUsageChunk: usageForced, abandonAfterMs })
  if (!tapped) finish(untappedUsage())
  options.waitUntil?.(settled)
  const responseInit = { status: upstream.status, statusText: upstream.statusText, headers: responseHeaders }
  // A JSON answer read whole is handed back without a stream around it (see bufferedResponse).
  const response =
    tapped instanceof Uint8Array ? bufferedResponse(tapped, responseInit) : new Response(tapped, responseInit)
  return attachResult(response, {
    scope,
    endpoint,
    estimate,
    states,
    reservationId,
    error: undefined,
    settled,
  })
}

function localErrorResponse(error: KeyguardError, circuitOpen: boolean): Response {
  if (!circuitOpen) return errorResponse(error, { format: 'openai' })
  // An open circuit answers as OpenAI did (401, 429…), so clients raise the same error class each time;
  // the error is never retryable (see keyWideErrorCodes), so x-should-retry says false.
  const status = error.upstream?.status ?? error.clientStatus
  const response = errorResponse(error, { format: 'openai', status })
  response.headers.set('x-keyguard-circuit', 'open')
  return response
}
