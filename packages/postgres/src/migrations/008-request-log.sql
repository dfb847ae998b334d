-- keyguard store: a requests limit's sliding log in rows of its own. Until now the log was an array in
-- the state's JSON doc, so every reserve read, rebuilt and rewrote all of it (O(entries in the window),
-- and a TOASTed doc's new version per operation). Now a state's doc keeps two sums, `used` (settled)
-- and `held` (live), and its `key`; each entry is a row, reached through the indexes below, so a
-- reserve inserts one row and reads O(log n) of the others. The doc's sums always equal the sums of
-- the state's rows: every change to a row changes the doc in the same operation, under the state's
-- row lock (keyguard_lock).

CREATE TABLE keyguard_request_log (
  key text NOT NULL,
  at bigint NOT NULL,
  -- insertion order, for ties of `at` (the order reclaims happen in)
  seq bigint GENERATED ALWAYS AS IDENTITY,
  -- the reservation; NULL for entries settled before this migration (the old log did not keep it)
  id text,
  amount bigint NOT NULL,
  lease_end bigint NOT NULL,
  settled boolean NOT NULL DEFAULT false
);
-- the window: entries that age out, the oldest entry (resetAt), the walk of a denial
CREATE INDEX keyguard_request_log_window ON keyguard_request_log (key, at);
-- live entries: those whose lease has ended, and a reservation's own
CREATE INDEX keyguard_request_log_live ON keyguard_request_log (key, lease_end) WHERE NOT settled;

-- Existing logs move into rows, in their order; their docs become sums.
INSERT INTO keyguard_request_log (key, at, id, amount, lease_end, settled)
  SELECT x.key, x.at, x.id, x.amount, x.lease_end, x.settled FROM (
    SELECT s.key, (e->>0)::bigint AS at, NULL::text AS id, (e->>1)::bigint AS amount, 0::bigint AS lease_end,
      true AS settled, 0 AS src, o
    FROM keyguard_states s, jsonb_array_elements(COALESCE(s.doc->'done', '[]')) WITH ORDINALITY AS t(e, o)
    WHERE s.doc->>'kind' = 'requests'
    UNION ALL
    SELECT s.key, (e->>'at')::bigint, e->>'id', (e->>'amount')::bigint, (e->>'leaseEnd')::bigint, false, 1, o
    FROM keyguard_states s, jsonb_array_elements(COALESCE(s.doc->'log', '[]')) WITH ORDINALITY AS t(e, o)
    WHERE s.doc->>'kind' = 'requests'
  ) x ORDER BY x.key, x.at, x.src, x.o;
UPDATE keyguard_states s SET doc = jsonb_build_object('kind', 'requests', 'key', s.key,
  'used', COALESCE((SELECT sum((e->>1)::bigint) FROM jsonb_array_elements(COALESCE(s.doc->'done', '[]')) e), 0),
  'held', COALESCE((SELECT sum((e->>'amount')::bigint) FROM jsonb_array_elements(COALESCE(s.doc->'log', '[]')) e), 0))
WHERE s.doc->>'kind' = 'requests';

CREATE OR REPLACE FUNCTION keyguard_fresh(rule jsonb, at bigint) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE rule->>'kind'
    WHEN 'requests' THEN jsonb_build_object('kind', 'requests', 'used', 0, 'held', 0)
    WHEN 'tokens' THEN jsonb_build_object('kind', 'tokens', 'level', rule->'capacity', 'at', at, 'holds', '[]'::jsonb)
    WHEN 'spend' THEN jsonb_build_object('kind', 'spend', 'spent', 0, 'bonus', 0, 'fired', '[]'::jsonb, 'holds', '[]'::jsonb)
    WHEN 'concurrency' THEN jsonb_build_object('kind', 'concurrency', 'holds', '[]'::jsonb)
    ELSE jsonb_build_object('kind', 'credits', 'grants', '[]'::jsonb, 'debt', 0, 'consumed', 0, 'holds', '[]'::jsonb,
      'lowNotified', false, 'pending', NULL, 'recharges', NULL)
  END
$$;

CREATE OR REPLACE FUNCTION keyguard_held(d jsonb) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN d->>'kind' = 'requests' THEN COALESCE((d->>'held')::bigint, 0)
    ELSE COALESCE((SELECT sum((h->>'amount')::bigint) FROM jsonb_array_elements(keyguard_holds(d)) h), 0)::bigint END
$$;

CREATE OR REPLACE FUNCTION keyguard_requests_total(d jsonb) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT COALESCE((d->>'used')::bigint, 0) + COALESCE((d->>'held')::bigint, 0)
$$;

-- The entries of a requests state in its window, oldest first, live ones whose lease has ended left
-- out (they read as reclaimed): after an operation applied time and reclaimed, every row of the state.
CREATE FUNCTION keyguard_request_entries(d jsonb, rule jsonb, now_ms bigint) RETURNS TABLE (at bigint, amount bigint)
LANGUAGE sql STABLE AS $$
  SELECT l.at, l.amount FROM keyguard_request_log l
  WHERE l.key = d->>'key' AND l.at > now_ms - (rule->>'windowMs')::bigint AND (l.settled OR l.lease_end > now_ms)
  ORDER BY l.at, l.seq
$$;

-- The stored doc for `rule` with time applied, as in migration 6, except a requests doc: it is
-- returned as stored (its rows age out in keyguard_load, which may write).
CREATE OR REPLACE FUNCTION keyguard_doc_for(stored jsonb, rule jsonb, at bigint) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  kind text := rule->>'kind';
  d jsonb;
BEGIN
  IF stored IS NOT NULL AND jsonb_typeof(stored) = 'object' AND stored->>'kind' = kind THEN d := stored;
  ELSE d := keyguard_fresh(rule, at);
  END IF;
  IF kind = 'tokens' THEN
    d := d || jsonb_build_object(
      'level', round(least((rule->>'capacity')::numeric, (d->>'level')::numeric
        + greatest(0, at - (d->>'at')::numeric) * (rule->>'refillPerSecond')::numeric / 1000), 9),
      'at', greatest((d->>'at')::numeric, at));
  ELSIF kind = 'credits' THEN
    IF jsonb_typeof(d->'grants') = 'array'
      AND NOT jsonb_path_exists(d, '$.grants[*] ? (@.expiresAt <= $at)', jsonb_build_object('at', at)) THEN
      RETURN d;
    END IF;
    d := d || jsonb_build_object('grants', COALESCE((SELECT jsonb_agg(g ORDER BY o)
      FROM jsonb_array_elements(d->'grants') WITH ORDINALITY AS t(g, o)
      WHERE g->>'expiresAt' IS NULL OR (g->>'expiresAt')::bigint > at), '[]'));
  END IF;
  RETURN d;
END
$$;

-- Load the state of `key` into the work with time applied. A requests state's entries that left the
-- window are deleted and its sums lowered by them; a fresh requests doc (new, or of another kind
-- before) takes the state's key and drops any rows left from an earlier requests rule of that key.
CREATE FUNCTION keyguard_load(INOUT w jsonb, key text, rule jsonb, at bigint) LANGUAGE plpgsql AS $$
DECLARE
  stored jsonb := w->'st'->key;
  d jsonb := keyguard_doc_for(stored, rule, at);
  used_gone bigint;
  held_gone bigint;
BEGIN
  IF rule->>'kind' = 'requests' THEN
    IF d->>'key' IS NULL THEN
      DELETE FROM keyguard_request_log l WHERE l.key = keyguard_load.key;
      d := d || jsonb_build_object('key', key);
    ELSE
      WITH gone AS (DELETE FROM keyguard_request_log l WHERE l.key = keyguard_load.key
          AND l.at <= keyguard_load.at - (rule->>'windowMs')::bigint RETURNING l.amount, l.settled)
        SELECT sum(g.amount) FILTER (WHERE g.settled), sum(g.amount) FILTER (WHERE NOT g.settled)
        INTO used_gone, held_gone FROM gone g;
      IF used_gone IS NOT NULL OR held_gone IS NOT NULL THEN
        d := d || jsonb_build_object('used', (d->>'used')::bigint - COALESCE(used_gone, 0),
          'held', (d->>'held')::bigint - COALESCE(held_gone, 0));
      END IF;
    END IF;
  ELSIF stored->>'kind' = 'requests' THEN
    DELETE FROM keyguard_request_log l WHERE l.key = keyguard_load.key;
  END IF;
  w := jsonb_set(w, ARRAY['st', key], d);
END
$$;

-- Ids of live holds whose lease has ended, as in migration 6; a requests state's from its rows.
CREATE OR REPLACE FUNCTION keyguard_expired_ids(d jsonb, at bigint) RETURNS text[] LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF d->>'kind' = 'requests' THEN
    RETURN (SELECT COALESCE(array_agg(x.id ORDER BY x.first), '{}') FROM (
      SELECT l.id, min(l.seq) AS first FROM keyguard_request_log l
      WHERE l.key = d->>'key' AND NOT l.settled AND l.lease_end <= keyguard_expired_ids.at GROUP BY l.id) x);
  END IF;
  IF NOT jsonb_path_exists(keyguard_holds(d), '$[*] ? (@.leaseEnd <= $at)', jsonb_build_object('at', at)) THEN
    RETURN '{}';
  END IF;
  RETURN (SELECT COALESCE(array_agg(id ORDER BY first), '{}') FROM (
    SELECT h->>'id' AS id, min(o) AS first FROM jsonb_array_elements(keyguard_holds(d)) WITH ORDINALITY AS t(h, o)
    WHERE (h->>'leaseEnd')::bigint <= at GROUP BY h->>'id') x);
END
$$;

-- Hold `amount` for reservation `id`, as in migration 4; a requests entry is a new row.
CREATE OR REPLACE FUNCTION keyguard_add_hold(d jsonb, id text, amount bigint, lease_end bigint, at bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  IF d->>'kind' = 'requests' THEN
    INSERT INTO keyguard_request_log (key, at, id, amount, lease_end) VALUES (d->>'key', keyguard_add_hold.at, keyguard_add_hold.id, keyguard_add_hold.amount, keyguard_add_hold.lease_end);
    RETURN d || jsonb_build_object('held', (d->>'held')::bigint + amount);
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

-- A requests state's live entries of reservation `id`: settled (kept, now counted as used) or
-- removed; NULL when the state has none.
CREATE FUNCTION keyguard_end_requests(d jsonb, id text, settle boolean) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
  amount bigint;
BEGIN
  IF settle THEN
    WITH ended AS (UPDATE keyguard_request_log l SET settled = true
        WHERE l.key = d->>'key' AND NOT l.settled AND l.id = keyguard_end_requests.id RETURNING l.amount)
      SELECT count(*), COALESCE(sum(e.amount), 0) INTO n, amount FROM ended e;
  ELSE
    WITH ended AS (DELETE FROM keyguard_request_log l
        WHERE l.key = d->>'key' AND NOT l.settled AND l.id = keyguard_end_requests.id RETURNING l.amount)
      SELECT count(*), COALESCE(sum(e.amount), 0) INTO n, amount FROM ended e;
  END IF;
  IF n = 0 THEN RETURN NULL; END IF;
  RETURN d || jsonb_build_object('held', (d->>'held')::bigint - amount,
    'used', (d->>'used')::bigint + CASE WHEN settle THEN amount ELSE 0 END);
END
$$;

-- Drop reservation `id`'s hold without charging or refunding it, as in migration 4.
CREATE OR REPLACE FUNCTION keyguard_remove_hold(d jsonb, id text) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  IF d->>'kind' = 'requests' THEN RETURN COALESCE(keyguard_end_requests(d, id, false), d); END IF;
  RETURN jsonb_set(d, '{holds}', COALESCE((SELECT jsonb_agg(h ORDER BY o)
    FROM jsonb_array_elements(d->'holds') WITH ORDINALITY AS t(h, o) WHERE h->>'id' <> id), '[]'));
END
$$;

-- End reservation `id`'s hold, as in migration 4; a requests state's through its rows.
CREATE OR REPLACE FUNCTION keyguard_end_hold(d jsonb, id text, rule jsonb, how text, actual bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  hold jsonb;
  amount bigint;
BEGIN
  IF d->>'kind' = 'requests' THEN RETURN keyguard_end_requests(d, id, how = 'settle'); END IF;
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

-- The ChargeState a caller sees, as in migration 4; a requests state's resetAt from its oldest row.
CREATE OR REPLACE FUNCTION keyguard_describe(scope text, policy text, rule jsonb, d jsonb, at bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  held bigint := keyguard_held(d);
  used bigint := 0;
  reset_at bigint;
  level numeric;
BEGIN
  IF d->>'kind' = 'requests' THEN
    used := (d->>'used')::bigint;
    reset_at := (SELECT x.at FROM keyguard_request_entries(d, rule, keyguard_describe.at) x LIMIT 1) + (rule->>'windowMs')::bigint;
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

-- A state as `peek` shows it, as in migration 4, nothing written: a requests state's sums without
-- the rows that left the window and the live ones whose lease has ended (read as reclaimed).
CREATE OR REPLACE FUNCTION keyguard_view(stored jsonb, rule jsonb, at bigint) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
  d jsonb := keyguard_doc_for(stored, rule, at);
  since bigint;
  used_gone bigint;
  held_gone bigint;
  held_ended bigint;
  id text;
BEGIN
  IF d->>'kind' = 'requests' THEN
    IF d->>'key' IS NULL THEN RETURN d; END IF;
    since := at - (rule->>'windowMs')::bigint;
    SELECT COALESCE(sum(l.amount) FILTER (WHERE l.settled), 0), COALESCE(sum(l.amount) FILTER (WHERE NOT l.settled), 0)
      INTO used_gone, held_gone FROM keyguard_request_log l WHERE l.key = d->>'key' AND l.at <= since;
    SELECT COALESCE(sum(l.amount), 0) INTO held_ended FROM keyguard_request_log l
      WHERE l.key = d->>'key' AND NOT l.settled AND l.lease_end <= keyguard_view.at AND l.at > since;
    RETURN d || jsonb_build_object('used', (d->>'used')::bigint - used_gone,
      'held', (d->>'held')::bigint - held_gone - held_ended);
  END IF;
  FOREACH id IN ARRAY keyguard_expired_ids(d, at) LOOP
    d := COALESCE(keyguard_end_hold(d, id, rule, 'reclaim', 0), d);
  END LOOP;
  RETURN d;
END
$$;

CREATE OR REPLACE FUNCTION keyguard_record_states(w jsonb, rec jsonb, at bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT COALESCE(jsonb_agg(keyguard_describe(c->>'scope', c->>'policy', c->'rule',
    keyguard_view(w->'st'->(c->>'key'), c->'rule', at), at) ORDER BY o), '[]')
  FROM jsonb_array_elements(rec->'charges') WITH ORDINALITY AS t(c, o)
$$;

-- Why `charge` does not fit, as in migration 4; a requests state's walk over its rows.
CREATE OR REPLACE FUNCTION keyguard_denial(charge jsonb, d jsonb, taken bigint, remaining bigint, at bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
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
    FOR entry IN SELECT * FROM keyguard_request_entries(d, rule, keyguard_denial.at) LOOP
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

-- End a live reservation whose lease has passed, as in migration 5, each state loaded first.
CREATE OR REPLACE FUNCTION keyguard_reclaim(INOUT w jsonb, rec jsonb, at bigint) LANGUAGE plpgsql AS $$
DECLARE
  c jsonb;
  d jsonb;
  ended jsonb;
  events jsonb;
BEGIN
  IF rec->>'status' <> 'live' THEN RETURN; END IF;
  w := keyguard_put(w, rec || jsonb_build_object('status', 'expired', 'finishedAt', at));
  w := keyguard_lock(w, ARRAY(SELECT x->>'key' FROM jsonb_array_elements(rec->'charges') x));
  FOR c IN SELECT x FROM jsonb_array_elements(rec->'charges') WITH ORDINALITY AS t(x, o) ORDER BY o LOOP
    w := keyguard_load(w, c->>'key', c->'rule', at);
    d := w->'st'->(c->>'key');
    ended := keyguard_end_hold(d, rec->>'id', c->'rule', 'reclaim', 0);
    IF ended IS NOT NULL THEN
      events := (w->'events') || jsonb_build_array(jsonb_build_object('type', 'lease-expired', 'scope', c->'scope',
        'policy', c->'policy', 'reservationId', rec->'id',
        'reclaimedAs', CASE WHEN c->'rule'->>'kind' IN ('spend', 'credits') THEN 'spent' ELSE 'released' END));
      SELECT * INTO d, events FROM keyguard_after_money(ended, c->'rule', c->>'scope', c->>'policy', events);
      w := jsonb_set(w, '{events}', events);
    END IF;
    w := jsonb_set(w, ARRAY['st', c->>'key'], d);
  END LOOP;
END
$$;

-- Reclaim every expired hold in the state of `key`, as in migration 5, the state loaded first.
CREATE OR REPLACE FUNCTION keyguard_reclaim_in(INOUT w jsonb, key text, rule jsonb, at bigint) LANGUAGE plpgsql AS $$
DECLARE
  id text;
  rec jsonb;
BEGIN
  w := keyguard_load(w, key, rule, at);
  FOREACH id IN ARRAY keyguard_expired_ids(w->'st'->key, at) LOOP
    SELECT * INTO w, rec FROM keyguard_record(w, id, at);
    IF rec->>'status' = 'live' THEN w := keyguard_reclaim(w, rec, at);
    ELSE w := jsonb_set(w, ARRAY['st', key], keyguard_remove_hold(keyguard_doc_for(w->'st'->key, rule, at), id));
    END IF;
  END LOOP;
END
$$;
