-- keyguard store rules (docs/store-semantics.md §3-§8) as pure functions on a state's `doc`, the JSON
-- document of one `keyguard_states` row. Money is BIGINT nano-USD (JSON integers, exact); a token
-- level is the one fraction (numeric, rounded to 9 places). The operations of 005-store-operations.sql
-- call these; nothing here reads or writes a table.

-- The array of a state's holds: a request log is its holds.
CREATE FUNCTION keyguard_holds(d jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT COALESCE(d -> (CASE WHEN d->>'kind' = 'requests' THEN 'log' ELSE 'holds' END), '[]')
$$;

CREATE FUNCTION keyguard_held(d jsonb) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT COALESCE(sum((h->>'amount')::bigint), 0)::bigint FROM jsonb_array_elements(keyguard_holds(d)) h
$$;

CREATE FUNCTION keyguard_balance(d jsonb) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT COALESCE(sum((g->>'amount')::bigint), 0)::bigint FROM jsonb_array_elements(COALESCE(d->'grants', '[]')) g
$$;

CREATE FUNCTION keyguard_net(d jsonb) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT keyguard_balance(d) - COALESCE((d->>'debt')::bigint, 0)
$$;

-- Settled plus held requests in the window.
CREATE FUNCTION keyguard_requests_total(d jsonb) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT keyguard_held(d) + COALESCE((SELECT sum((e->>1)::bigint) FROM jsonb_array_elements(COALESCE(d->'done', '[]')) e), 0)::bigint
$$;

-- Every request in the window, settled or held, oldest first: (at, amount).
CREATE FUNCTION keyguard_request_entries(d jsonb) RETURNS TABLE (at bigint, amount bigint) LANGUAGE sql IMMUTABLE AS $$
  SELECT x.at, x.amount FROM (
    SELECT (e->>0)::bigint AS at, (e->>1)::bigint AS amount, 0 AS src, o FROM jsonb_array_elements(COALESCE(d->'done', '[]')) WITH ORDINALITY AS t(e, o)
    UNION ALL
    SELECT (e->>'at')::bigint, (e->>'amount')::bigint, 1, o FROM jsonb_array_elements(COALESCE(d->'log', '[]')) WITH ORDINALITY AS t(e, o)
  ) x ORDER BY x.at, x.src, x.o
$$;

CREATE FUNCTION keyguard_fresh(rule jsonb, at bigint) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE rule->>'kind'
    WHEN 'requests' THEN jsonb_build_object('kind', 'requests', 'log', '[]'::jsonb, 'done', '[]'::jsonb)
    WHEN 'tokens' THEN jsonb_build_object('kind', 'tokens', 'level', rule->'capacity', 'at', at, 'holds', '[]'::jsonb)
    WHEN 'spend' THEN jsonb_build_object('kind', 'spend', 'spent', 0, 'bonus', 0, 'fired', '[]'::jsonb, 'holds', '[]'::jsonb)
    WHEN 'concurrency' THEN jsonb_build_object('kind', 'concurrency', 'holds', '[]'::jsonb)
    ELSE jsonb_build_object('kind', 'credits', 'grants', '[]'::jsonb, 'debt', 0, 'consumed', 0, 'holds', '[]'::jsonb,
      'lowNotified', false, 'pending', NULL, 'recharges', NULL)
  END
$$;

-- The stored doc for `rule` (a fresh one when missing or of another kind), with time applied:
-- requests leave the window, a bucket refills, expired grants go.
CREATE FUNCTION keyguard_doc_for(stored jsonb, rule jsonb, at bigint) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  kind text := rule->>'kind';
  d jsonb;
  since bigint;
BEGIN
  IF stored IS NOT NULL AND jsonb_typeof(stored) = 'object' AND stored->>'kind' = kind THEN d := stored;
  ELSE d := keyguard_fresh(rule, at);
  END IF;
  IF kind = 'requests' THEN
    since := at - (rule->>'windowMs')::bigint;
    d := d || jsonb_build_object(
      'log', COALESCE((SELECT jsonb_agg(e ORDER BY o) FROM jsonb_array_elements(d->'log') WITH ORDINALITY AS t(e, o)
        WHERE (e->>'at')::bigint > since), '[]'),
      'done', COALESCE((SELECT jsonb_agg(e ORDER BY o) FROM jsonb_array_elements(COALESCE(d->'done', '[]')) WITH ORDINALITY AS t(e, o)
        WHERE (e->>0)::bigint > since), '[]'));
  ELSIF kind = 'tokens' THEN
    d := d || jsonb_build_object(
      'level', round(least((rule->>'capacity')::numeric, (d->>'level')::numeric
        + greatest(0, at - (d->>'at')::numeric) * (rule->>'refillPerSecond')::numeric / 1000), 9),
      'at', greatest((d->>'at')::numeric, at));
  ELSIF kind = 'credits' THEN
    d := d || jsonb_build_object('grants', COALESCE((SELECT jsonb_agg(g ORDER BY o)
      FROM jsonb_array_elements(d->'grants') WITH ORDINALITY AS t(g, o)
      WHERE g->>'expiresAt' IS NULL OR (g->>'expiresAt')::bigint > at), '[]'));
  END IF;
  RETURN d;
END
$$;

-- Ids of live holds whose lease has ended.
CREATE FUNCTION keyguard_expired_ids(d jsonb, at bigint) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT COALESCE(array_agg(id ORDER BY first), '{}') FROM (
    SELECT h->>'id' AS id, min(o) AS first FROM jsonb_array_elements(keyguard_holds(d)) WITH ORDINALITY AS t(h, o)
    WHERE (h->>'leaseEnd')::bigint <= at GROUP BY h->>'id') x
$$;

-- Credits: take `amount` from unexpired grants, oldest first; what is left becomes debt.
CREATE FUNCTION keyguard_consume(d jsonb, amount bigint) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  g jsonb;
  rest bigint := amount;
  take bigint;
  kept jsonb := '[]';
BEGIN
  FOR g IN SELECT e FROM jsonb_array_elements(d->'grants') WITH ORDINALITY AS t(e, o) ORDER BY o LOOP
    take := least((g->>'amount')::bigint, rest);
    rest := rest - take;
    IF (g->>'amount')::bigint - take > 0 THEN
      kept := kept || jsonb_build_array(jsonb_set(g, '{amount}', to_jsonb((g->>'amount')::bigint - take)));
    END IF;
  END LOOP;
  RETURN d || jsonb_build_object('grants', kept, 'debt', (d->>'debt')::bigint + rest,
    'consumed', (d->>'consumed')::bigint + amount);
END
$$;

-- Credits: pay debt first, then append what is left as a grant.
CREATE FUNCTION keyguard_grant(d jsonb, amount bigint, expires_at bigint) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT d || jsonb_build_object(
    'debt', (d->>'debt')::bigint - least((d->>'debt')::bigint, amount),
    'grants', d->'grants' || CASE WHEN amount - least((d->>'debt')::bigint, amount) > 0
      THEN jsonb_build_array(jsonb_build_object('amount', amount - least((d->>'debt')::bigint, amount), 'expiresAt', expires_at))
      ELSE '[]'::jsonb END)
$$;

-- Hold `amount` for reservation `id` (a repeated (scope, policy) joins the earlier hold).
CREATE FUNCTION keyguard_add_hold(d jsonb, id text, amount bigint, lease_end bigint, at bigint) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF d->>'kind' = 'requests' THEN
    RETURN jsonb_set(d, '{log}', d->'log' || jsonb_build_array(
      jsonb_build_object('id', id, 'at', at, 'amount', amount, 'leaseEnd', lease_end)));
  END IF;
  IF d->>'kind' = 'tokens' THEN d := jsonb_set(d, '{level}', to_jsonb((d->>'level')::numeric - amount)); END IF;
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(d->'holds') h WHERE h->>'id' = id) THEN
    RETURN jsonb_set(d, '{holds}', (SELECT jsonb_agg(CASE WHEN h->>'id' = id
      THEN jsonb_set(h, '{amount}', to_jsonb((h->>'amount')::bigint + amount)) ELSE h END ORDER BY o)
      FROM jsonb_array_elements(d->'holds') WITH ORDINALITY AS t(h, o)));
  END IF;
  RETURN jsonb_set(d, '{holds}', d->'holds' || jsonb_build_array(
    jsonb_build_object('id', id, 'amount', amount, 'leaseEnd', lease_end)));
END
$$;

-- Drop reservation `id`'s hold (a reservation no longer live) without charging or refunding it.
CREATE FUNCTION keyguard_remove_hold(d jsonb, id text) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_set(d, ARRAY[CASE WHEN d->>'kind' = 'requests' THEN 'log' ELSE 'holds' END],
    COALESCE((SELECT jsonb_agg(h ORDER BY o) FROM jsonb_array_elements(keyguard_holds(d)) WITH ORDINALITY AS t(h, o)
      WHERE h->>'id' <> id), '[]'))
$$;

-- End reservation `id`'s hold: `reclaim` as spent (spend, credits) or released (the others); NULL
-- when the state holds nothing for it.
CREATE FUNCTION keyguard_end_hold(d jsonb, id text, rule jsonb, how text, actual bigint) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  hold jsonb;
  amount bigint;
BEGIN
  IF d->>'kind' = 'requests' THEN
    IF NOT EXISTS (SELECT 1 FROM jsonb_array_elements(d->'log') e WHERE e->>'id' = id) THEN RETURN NULL; END IF;
    IF how = 'settle' THEN
      d := jsonb_set(d, '{done}', COALESCE(d->'done', '[]') || (SELECT jsonb_agg(jsonb_build_array(e->'at', e->'amount') ORDER BY o)
        FROM jsonb_array_elements(d->'log') WITH ORDINALITY AS t(e, o) WHERE e->>'id' = id));
    END IF;
    RETURN keyguard_remove_hold(d, id);
  END IF;
  SELECT h INTO hold FROM jsonb_array_elements(d->'holds') WITH ORDINALITY AS t(h, o) WHERE h->>'id' = id ORDER BY o LIMIT 1;
  IF hold IS NULL THEN RETURN NULL; END IF;
  amount := (hold->>'amount')::bigint;
  d := keyguard_remove_hold(d, id);
  IF d->>'kind' = 'tokens' THEN
    RETURN jsonb_set(d, '{level}', to_jsonb(least(COALESCE((rule->>'capacity')::numeric, 'Infinity'::numeric),
      (d->>'level')::numeric + CASE WHEN how = 'settle' THEN amount - actual ELSE amount END)));
  ELSIF d->>'kind' = 'spend' THEN
    IF how = 'settle' THEN RETURN jsonb_set(d, '{spent}', to_jsonb((d->>'spent')::bigint + actual)); END IF;
    IF how = 'reclaim' THEN RETURN jsonb_set(d, '{spent}', to_jsonb((d->>'spent')::bigint + amount)); END IF;
  ELSIF d->>'kind' = 'credits' THEN
    IF how = 'settle' THEN RETURN keyguard_consume(d, actual); END IF;
    IF how = 'reclaim' THEN RETURN keyguard_consume(d, amount); END IF;
  END IF;
  RETURN d;
END
$$;

-- Credits events after a change (§3.5): low balance once until it recovers, one pending recharge at a
-- time and at most maxPerPeriod a period.
CREATE FUNCTION keyguard_credit_events(INOUT d jsonb, rule jsonb, scope text, policy text, INOUT events jsonb)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  net bigint := keyguard_net(d);
  auto jsonb := rule->'autoRecharge';
  period text;
  count integer;
  key text;
BEGIN
  IF rule->>'lowBalanceNanos' IS NOT NULL THEN
    IF net >= (rule->>'lowBalanceNanos')::bigint THEN d := jsonb_set(d, '{lowNotified}', 'false');
    ELSIF NOT COALESCE((d->>'lowNotified')::boolean, false) THEN
      d := jsonb_set(d, '{lowNotified}', 'true');
      events := events || jsonb_build_array(jsonb_build_object('type', 'credits-low', 'scope', scope,
        'policy', policy, 'balanceNanos', net));
    END IF;
  END IF;
  IF auto IS NULL OR jsonb_typeof(auto) <> 'object' THEN RETURN; END IF;
  period := auto->'period'->>'id';
  IF d->'recharges'->>'periodId' IS DISTINCT FROM period THEN
    d := jsonb_set(d, '{recharges}', jsonb_build_object('periodId', period, 'count', 0));
  END IF;
  count := (d->'recharges'->>'count')::integer;
  IF net < (auto->>'thresholdNanos')::bigint AND d->>'pending' IS NULL AND count < (auto->>'maxPerPeriod')::integer THEN
    count := count + 1;
    key := 'recharge:' || scope || ':' || policy || ':' || period || ':' || count;
    d := jsonb_set(d, '{recharges,count}', to_jsonb(count));
    d := jsonb_set(d, '{pending}', jsonb_build_object('key', key, 'amountNanos', auto->'amountNanos'));
    events := events || jsonb_build_array(jsonb_build_object('type', 'recharge-due', 'scope', scope,
      'policy', policy, 'amountNanos', auto->'amountNanos', 'idempotencyKey', key));
  END IF;
END
$$;

-- Soft-limit (spend) and credits events after money moved.
CREATE FUNCTION keyguard_after_money(INOUT d jsonb, rule jsonb, scope text, policy text, INOUT events jsonb)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  threshold bigint;
BEGIN
  IF d->>'kind' = 'spend' AND rule->>'kind' = 'spend' THEN
    FOR threshold IN SELECT t::bigint FROM jsonb_array_elements_text(COALESCE(rule->'softNanos', '[]')) t ORDER BY 1 LOOP
      CONTINUE WHEN (d->>'spent')::bigint < threshold OR d->'fired' @> to_jsonb(threshold);
      d := jsonb_set(d, '{fired}', d->'fired' || to_jsonb(threshold));
      events := events || jsonb_build_array(jsonb_build_object('type', 'soft-limit', 'scope', scope,
        'policy', policy, 'thresholdNanos', threshold, 'usedNanos', (d->>'spent')::bigint,
        'limitNanos', rule->'limitNanos', 'periodId', rule->'period'->'id'));
    END LOOP;
  END IF;
  IF d->>'kind' = 'credits' AND rule->>'kind' = 'credits' THEN
    SELECT * INTO d, events FROM keyguard_credit_events(d, rule, scope, policy, events);
  END IF;
END
$$;

-- Apply an `adjust` delta (§8.3) to a spend, credits or tokens state.
CREATE FUNCTION keyguard_adjust_doc(d jsonb, rule jsonb, delta bigint, expires_at bigint, key text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF d->>'kind' = 'spend' THEN
    IF delta > 0 THEN RETURN jsonb_set(d, '{bonus}', to_jsonb((d->>'bonus')::bigint + delta)); END IF;
    RETURN jsonb_set(d, '{spent}', to_jsonb(greatest(0, (d->>'spent')::bigint + delta)));
  ELSIF d->>'kind' = 'credits' THEN
    IF delta > 0 THEN d := keyguard_grant(d, delta, expires_at);
    ELSIF delta < 0 THEN d := keyguard_consume(d, -delta);
    END IF;
    IF key IS NOT NULL AND d->'pending'->>'key' = key THEN d := jsonb_set(d, '{pending}', 'null'); END IF;
    IF rule->>'lowBalanceNanos' IS NOT NULL AND keyguard_net(d) >= (rule->>'lowBalanceNanos')::bigint THEN
      d := jsonb_set(d, '{lowNotified}', 'false');
    END IF;
  ELSIF d->>'kind' = 'tokens' AND rule->>'kind' = 'tokens' THEN
    d := jsonb_set(d, '{level}', to_jsonb(least((rule->>'capacity')::numeric, (d->>'level')::numeric + delta)));
  END IF;
  RETURN d;
END
$$;

-- The limit a state answers with (NULL: unlimited).
CREATE FUNCTION keyguard_limit(d jsonb, rule jsonb) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE rule->>'kind'
    WHEN 'requests' THEN (rule->>'limit')::bigint
    WHEN 'concurrency' THEN (rule->>'limit')::bigint
    WHEN 'tokens' THEN (rule->>'capacity')::bigint
    WHEN 'spend' THEN (rule->>'limitNanos')::bigint + CASE WHEN d->>'kind' = 'spend' THEN (d->>'bonus')::bigint ELSE 0 END
    ELSE CASE WHEN d->>'kind' = 'credits' THEN keyguard_balance(d) ELSE 0 END
  END
$$;

-- What a new reservation may still take, after `taken` already held by it (NULL: unlimited).
CREATE FUNCTION keyguard_remaining(d jsonb, rule jsonb, taken bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE d->>'kind'
    WHEN 'requests' THEN greatest(0, (rule->>'limit')::bigint - keyguard_requests_total(d) - taken)
    WHEN 'tokens' THEN greatest(0, floor((d->>'level')::numeric - taken))::bigint
    -- greatest() skips NULLs: an unlimited spend must stay NULL, not become 0
    WHEN 'spend' THEN CASE WHEN rule->>'limitNanos' IS NOT NULL
      THEN greatest(0, keyguard_limit(d, rule) - (d->>'spent')::bigint - keyguard_held(d) - taken) END
    WHEN 'concurrency' THEN greatest(0, (rule->>'limit')::bigint - keyguard_held(d) - taken)
    ELSE greatest(0, keyguard_net(d) - keyguard_held(d) - taken)
  END
$$;

-- The ChargeState a caller sees (§3, §5).
CREATE FUNCTION keyguard_describe(scope text, policy text, rule jsonb, d jsonb, at bigint) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  held bigint := keyguard_held(d);
  used bigint := 0;
  reset_at bigint;
  level numeric;
BEGIN
  IF d->>'kind' = 'requests' THEN
    used := COALESCE((SELECT sum((e->>1)::bigint) FROM jsonb_array_elements(d->'done') e), 0);
    reset_at := (SELECT min(x.at) FROM keyguard_request_entries(d) x) + (rule->>'windowMs')::bigint;
  ELSIF d->>'kind' = 'tokens' THEN
    level := (d->>'level')::numeric;
    used := greatest(0, (rule->>'capacity')::bigint - floor(level) - held);
    IF level < (rule->>'capacity')::numeric AND (rule->>'refillPerSecond')::numeric > 0 THEN
      reset_at := at + ceil(((rule->>'capacity')::numeric - level) * 1000 / (rule->>'refillPerSecond')::numeric);
    END IF;
  ELSIF d->>'kind' = 'spend' THEN
    used := (d->>'spent')::bigint;
    reset_at := (rule->'period'->>'endsAt')::bigint;
  ELSIF d->>'kind' = 'credits' THEN
    used := (d->>'consumed')::bigint;
  END IF;
  RETURN jsonb_build_object('scope', scope, 'policy', policy, 'kind', rule->>'kind', 'limit', keyguard_limit(d, rule),
    'used', used, 'held', held, 'remaining', keyguard_remaining(d, rule, 0), 'resetAt', reset_at);
END
$$;

-- A state as `peek` shows it: time applied, expired holds as if reclaimed (nothing written).
CREATE FUNCTION keyguard_view(stored jsonb, rule jsonb, at bigint) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  d jsonb := keyguard_doc_for(stored, rule, at);
  id text;
BEGIN
  FOREACH id IN ARRAY keyguard_expired_ids(d, at) LOOP
    d := COALESCE(keyguard_end_hold(d, id, rule, 'reclaim', 0), d);
  END LOOP;
  RETURN d;
END
$$;

-- Why `charge` ({scope, policy, rule, amount}) does not fit (§6), after `taken` already held by the
-- same reserve.
CREATE FUNCTION keyguard_denial(charge jsonb, d jsonb, taken bigint, remaining bigint, at bigint) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  rule jsonb := charge->'rule';
  amount bigint := (charge->>'amount')::bigint;
  lim bigint := keyguard_limit(d, rule);
  retry bigint;
  need bigint;
  entry record;
BEGIN
  IF rule->>'kind' = 'requests' AND amount <= (rule->>'limit')::bigint THEN
    need := keyguard_requests_total(d) + taken + amount - (rule->>'limit')::bigint;
    retry := (rule->>'windowMs')::bigint;
    FOR entry IN SELECT * FROM keyguard_request_entries(d) LOOP
      need := need - entry.amount;
      IF need <= 0 THEN
        retry := greatest(0, entry.at + (rule->>'windowMs')::bigint - at);
        EXIT;
      END IF;
    END LOOP;
  ELSIF rule->>'kind' = 'tokens' AND amount <= (rule->>'capacity')::bigint AND (rule->>'refillPerSecond')::numeric > 0 THEN
    retry := greatest(0, ceil((amount - ((d->>'level')::numeric - taken)) * 1000 / (rule->>'refillPerSecond')::numeric));
  ELSIF rule->>'kind' = 'spend' THEN
    IF lim IS NOT NULL AND amount <= lim THEN retry := greatest(0, (rule->'period'->>'endsAt')::bigint - at); END IF;
  ELSIF rule->>'kind' = 'concurrency' AND amount <= (rule->>'limit')::bigint THEN
    need := keyguard_held(d) + taken + amount - (rule->>'limit')::bigint;
    FOR entry IN SELECT (h->>'amount')::bigint AS amount, (h->>'leaseEnd')::bigint AS lease_end
      FROM jsonb_array_elements(d->'holds') WITH ORDINALITY AS t(h, o) ORDER BY (h->>'leaseEnd')::bigint, o LOOP
      need := need - entry.amount;
      IF need <= 0 THEN
        retry := greatest(0, entry.lease_end - at);
        EXIT;
      END IF;
    END LOOP;
  END IF;
  RETURN jsonb_build_object('scope', charge->'scope', 'policy', charge->'policy', 'kind', rule->>'kind', 'limit', lim,
    'remaining', remaining, 'requested', amount, 'retryAfterMs', retry,
    'used', keyguard_describe(charge->>'scope', charge->>'policy', rule, d, at)->'used');
END
$$;
