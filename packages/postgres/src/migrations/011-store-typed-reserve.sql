-- keyguard store: reserve of the common case with its charges as typed arguments, and answers as numbers.
-- Profiling migration 10's reserve (callgrind on a single-user backend) showed where a reserve's server
-- time goes: Postgres compiles every PL/pgSQL expression again in each transaction (~4k instructions a
-- node), and that reserve evaluated ~50 expressions for one charge, most of them taking JSON apart
-- (`charges->i->'rule'->>'windowMs'`) and building JSON back (a states array of 8-key objects, 78k
-- instructions of ~600k). keyguard_reserve_typed takes what the client already knows as typed arrays
-- (state keys, kinds, amounts, limits, windows, period ends), reads each state's sums in the statement
-- that reads its log, and answers `[limit, used, held, resetAt]` per charge; the client builds the states.
-- The record it writes, the rows, the locks (each state's row, in key order, after an advisory lock on
-- the id) and every rule are those of migration 10's reserve, which stays for the other shapes (tokens,
-- credits, a state charged twice) and for clients from before this migration. Any case but the common
-- one (a denial, a replay, a state not yet created, a lease ended) goes to keyguard_reserve_general.

CREATE FUNCTION keyguard_reserve_typed(rid text, lease_ms bigint, keys text[], kinds text[], amounts bigint[],
  limits bigint[], windows bigint[], ends bigint[], charges jsonb, sync boolean) RETURNS jsonb
LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  now_ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  locked text[];
  docs jsonb[];
  blocked boolean;
  i integer;
  d jsonb;
  used bigint;
  held bigint;
  lim bigint;
  oldest bigint;
  new_docs jsonb[];
  gone integer[];
  numbers bigint[];
  ignored boolean;
BEGIN
  -- (assignments, not PERFORM: a simple expression skips the executor start of a statement)
  IF NOT sync THEN ignored := set_config('synchronous_commit', 'off', true) IS NULL; END IF;
  ignored := pg_advisory_xact_lock(hashtextextended('keyguard.reserve:' || current_schema() || ':' || rid, 0)) IS NULL;
  -- the states, locked in key order, and whether a record of this id exists (live, finished or forgotten:
  -- the general path answers a replay or a reuse) or a state is missing; read after the lock above
  SELECT array_agg(x.key), array_agg(x.doc),
    EXISTS (SELECT FROM keyguard_reservations r WHERE r.id = rid) OR count(*) <> cardinality(keys)
  INTO locked, docs, blocked
  FROM (SELECT s.key, s.doc FROM keyguard_states s WHERE s.key = ANY(keys) ORDER BY s.key FOR UPDATE) x;

  -- each charge: blocked (the general path decides), or its new doc and [limit, used, held, resetAt]
  FOR i IN 1 .. cardinality(keys) LOOP
    EXIT WHEN blocked;
    d := docs[array_position(locked, keys[i])];
    IF kinds[i] = 'requests' THEN
      -- the oldest entry and whether a live one has its lease ended (two ordered index scans; or the doc
      -- is not a requests state of this key), and the state's sums
      SELECT (SELECT l.at FROM keyguard_request_log l WHERE l.key = keys[i] ORDER BY l.at LIMIT 1),
        COALESCE((SELECT l.lease_end FROM keyguard_request_log l WHERE l.key = keys[i] AND NOT l.settled
          ORDER BY l.lease_end LIMIT 1) <= now_ms, false)
          OR d->>'kind' IS DISTINCT FROM 'requests' OR d->>'key' IS DISTINCT FROM keys[i],
        (d->>'used')::bigint, (d->>'held')::bigint
      INTO oldest, blocked, used, held;
      IF oldest <= now_ms - windows[i] AND NOT blocked THEN
        -- what leaves the window now (deleted below), and the oldest entry that stays
        SELECT used - COALESCE(sum(l.amount) FILTER (WHERE l.settled), 0)::bigint,
          held - COALESCE(sum(l.amount) FILTER (WHERE NOT l.settled), 0)::bigint,
          (SELECT l2.at FROM keyguard_request_log l2 WHERE l2.key = keys[i] AND l2.at > now_ms - windows[i]
            ORDER BY l2.at LIMIT 1)
        INTO used, held, oldest
        FROM keyguard_request_log l WHERE l.key = keys[i] AND l.at <= now_ms - windows[i];
        gone := gone || i;
      END IF;
      blocked := blocked OR amounts[i] > greatest(0, limits[i] - used - held);
      new_docs := new_docs || (d || jsonb_build_object('used', used, 'held', held + amounts[i]));
      numbers := numbers || ARRAY[limits[i], used, held + amounts[i], least(oldest, now_ms) + windows[i]];
    ELSE
      -- spend or concurrency: what the holds hold, whether one's lease has ended or is this
      -- reservation's (or the doc is not a state of this kind), and the state's sums
      SELECT COALESCE(sum((h->>'amount')::bigint), 0)::bigint,
        COALESCE(bool_or((h->>'leaseEnd')::bigint <= now_ms OR h->>'id' = rid), false)
          OR d->>'kind' IS DISTINCT FROM kinds[i] OR jsonb_typeof(d->'holds') IS DISTINCT FROM 'array',
        CASE WHEN kinds[i] = 'spend' THEN (d->>'spent')::bigint ELSE 0 END,
        CASE WHEN kinds[i] = 'spend' THEN limits[i] + (d->>'bonus')::bigint ELSE limits[i] END
      INTO held, blocked, used, lim
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(d->'holds') = 'array' THEN d->'holds' END) h;
      blocked := blocked OR limits[i] IS NOT NULL AND amounts[i] > greatest(0, lim - used - held);
      new_docs := new_docs || jsonb_set(d, '{holds}', d->'holds' || jsonb_build_array(
        jsonb_build_object('id', rid, 'amount', amounts[i], 'leaseEnd', now_ms + lease_ms)));
      numbers := numbers || ARRAY[lim, used, held + amounts[i], ends[i]];
    END IF;
  END LOOP;
  IF blocked THEN
    RETURN keyguard_reserve_general(jsonb_build_object('id', rid, 'leaseMs', lease_ms, 'charges', charges, 'sync', sync));
  END IF;

  IF gone IS NOT NULL THEN
    DELETE FROM keyguard_request_log l USING unnest(gone) AS g(i)
    WHERE l.key = keys[g.i] AND l.at <= now_ms - windows[g.i];
  END IF;
  -- every write in one statement: the new entries (of the requests charges, in charge order), the
  -- states, the record (a plain insert: no row of this id exists, and every reserve of it waits on the
  -- lock above)
  WITH added AS (
    INSERT INTO keyguard_request_log (key, at, id, amount, lease_end)
    SELECT x.key, now_ms, rid, x.amount, now_ms + lease_ms
    FROM unnest(keys, kinds, amounts) WITH ORDINALITY AS x(key, kind, amount, o) WHERE x.kind = 'requests'
    ORDER BY x.o
  ), written AS (
    UPDATE keyguard_states s SET doc = new_docs[array_position(keys, s.key)], updated_at = now()
    WHERE s.key = ANY(keys)
  )
  INSERT INTO keyguard_reservations (id, doc, forget_at)
  VALUES (rid, jsonb_build_object('id', rid, 'status', 'live', 'leaseEnd', now_ms + lease_ms, 'finishedAt', now_ms,
    'charges', charges), NULL);
  RETURN to_jsonb(numbers);
END
$$;

-- reserve and settle of migration 10, with the log reached by index whatever the statistics say: whether
-- a live entry of a requests log has its lease ended is now the first entry of the live index (`ORDER BY
-- lease_end LIMIT 1`, then `<= now`), where it was an EXISTS over the window; and settle finds its own
-- entries by the live index's (key, lease_end) (every live entry of a reservation ends with its record's
-- lease), where it read the key's whole window (a bitmap scan) or, planned on such statistics, the
-- whole table (its UPDATE). With statistics taken while the log was small, Postgres had
-- planned that EXISTS as a scan of the whole table (3,020 rows read for one reserve, after an ANALYZE
-- of 3,000 entries; 1,070 such scans reading 24M rows in one 8,000-call run); an ordered LIMIT 1 is an
-- index scan at any size. A live entry outside the window whose lease has ended now also sends the call
-- to the general path, which reclaims it as it did.
CREATE OR REPLACE FUNCTION keyguard_reserve(input jsonb) RETURNS jsonb LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  now_ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  rid text := input->>'id';
  charges jsonb := input->'charges';
  n integer := jsonb_array_length(input->'charges');
  lease_end bigint := now_ms + (input->>'leaseMs')::bigint;
  c jsonb;
  rule jsonb;
  kind text;
  k text;
  i integer;
  keys text[] := '{}';
  docs jsonb[] := '{}';
  r record;
  d jsonb;
  amount bigint;
  lim bigint;
  used bigint;
  held bigint;
  reset_at bigint;
  since bigint;
  used_gone bigint;
  held_gone bigint;
  oldest bigint;
  stale boolean;
  mine boolean;
  new_docs jsonb[] := '{}';
  log_keys text[] := '{}';
  log_amounts bigint[] := '{}';
  gone_keys text[] := '{}';
  gone_since bigint[] := '{}';
  states jsonb := '[]';
  ignored boolean;
BEGIN
  IF n IS NULL OR n = 0 THEN RETURN keyguard_reserve_general(input); END IF;
  FOR i IN 0 .. n - 1 LOOP
    k := charges->i->>'key';
    kind := charges->i->'rule'->>'kind';
    IF k IS NULL OR k = ANY(keys) OR kind IS NULL OR kind NOT IN ('requests', 'spend', 'concurrency') THEN
      RETURN keyguard_reserve_general(input);
    END IF;
    keys := keys || k;
  END LOOP;
  IF input->'sync' = 'false' THEN ignored := set_config('synchronous_commit', 'off', true) IS NULL; END IF;
  ignored := pg_advisory_xact_lock(hashtextextended('keyguard.reserve:' || current_schema() || ':' || rid, 0)) IS NULL;
  -- the states, locked in key order (docs in the order of `keys`), and whether a record of this id exists,
  -- live, finished or forgotten: then the general path answers (a replay, or a reuse). One statement,
  -- read after the lock above: a reserve of this id that held it has committed its record.
  docs := array_fill(NULL::jsonb, ARRAY[n]);
  FOR r IN SELECT s.key, s.doc, EXISTS (SELECT FROM keyguard_reservations x WHERE x.id = rid) AS taken
      FROM keyguard_states s WHERE s.key = ANY(keys) ORDER BY s.key FOR UPDATE LOOP
    IF r.taken THEN RETURN keyguard_reserve_general(input); END IF;
    docs[array_position(keys, r.key)] := r.doc;
  END LOOP;

  FOR i IN 0 .. n - 1 LOOP
    c := charges->i;
    rule := c->'rule';
    kind := rule->>'kind';
    k := keys[i + 1];
    d := docs[i + 1];
    IF d IS NULL OR jsonb_typeof(d) <> 'object' OR d->>'kind' IS DISTINCT FROM kind THEN
      RETURN keyguard_reserve_general(input);
    END IF;
    amount := (c->>'amount')::bigint;
    reset_at := NULL;
    IF kind = 'requests' THEN
      IF d->>'key' IS DISTINCT FROM k THEN RETURN keyguard_reserve_general(input); END IF;
      since := now_ms - (rule->>'windowMs')::bigint;
      -- the oldest entry and whether a live one has its lease ended (two ordered index scans)
      SELECT (SELECT l.at FROM keyguard_request_log l WHERE l.key = k ORDER BY l.at LIMIT 1),
        COALESCE((SELECT l.lease_end FROM keyguard_request_log l WHERE l.key = k AND NOT l.settled
          ORDER BY l.lease_end LIMIT 1) <= now_ms, false)
      INTO oldest, stale;
      IF stale THEN RETURN keyguard_reserve_general(input); END IF;
      used := (d->>'used')::bigint;
      held := (d->>'held')::bigint;
      IF oldest <= since THEN
        -- what leaves the window now, and the oldest entry that stays
        SELECT COALESCE(sum(l.amount) FILTER (WHERE l.settled), 0)::bigint,
          COALESCE(sum(l.amount) FILTER (WHERE NOT l.settled), 0)::bigint,
          (SELECT l2.at FROM keyguard_request_log l2 WHERE l2.key = k AND l2.at > since ORDER BY l2.at LIMIT 1)
        INTO used_gone, held_gone, oldest
        FROM keyguard_request_log l WHERE l.key = k AND l.at <= since;
        used := used - used_gone;
        held := held - held_gone;
        gone_keys := gone_keys || k;
        gone_since := gone_since || since;
      END IF;
      lim := (rule->>'limit')::bigint;
      IF amount > greatest(0, lim - used - held) THEN RETURN keyguard_reserve_general(input); END IF;
      held := held + amount;
      d := d || jsonb_build_object('used', used, 'held', held);
      reset_at := least(oldest, now_ms) + (rule->>'windowMs')::bigint;
      log_keys := log_keys || k;
      log_amounts := log_amounts || amount;
    ELSE
      IF jsonb_typeof(d->'holds') <> 'array' THEN RETURN keyguard_reserve_general(input); END IF;
      -- what the holds hold, whether one's lease has ended, whether one is this reservation's
      SELECT COALESCE(sum((h->>'amount')::bigint), 0)::bigint, COALESCE(bool_or((h->>'leaseEnd')::bigint <= now_ms), false),
        COALESCE(bool_or(h->>'id' = rid), false)
      INTO held, stale, mine FROM jsonb_array_elements(d->'holds') h;
      IF stale OR mine THEN RETURN keyguard_reserve_general(input); END IF;
      IF kind = 'spend' THEN
        used := (d->>'spent')::bigint;
        lim := (rule->>'limitNanos')::bigint + (d->>'bonus')::bigint;
        IF rule->>'limitNanos' IS NOT NULL AND amount > greatest(0, lim - used - held) THEN
          RETURN keyguard_reserve_general(input);
        END IF;
        reset_at := (rule->'period'->>'endsAt')::bigint;
      ELSE
        used := 0;
        lim := (rule->>'limit')::bigint;
        IF amount > greatest(0, lim - held) THEN RETURN keyguard_reserve_general(input); END IF;
      END IF;
      held := held + amount;
      d := jsonb_set(d, '{holds}', d->'holds' || jsonb_build_array(
        jsonb_build_object('id', rid, 'amount', amount, 'leaseEnd', lease_end)));
    END IF;
    new_docs := new_docs || d;
    states := states || jsonb_build_array(jsonb_build_object('scope', c->>'scope', 'policy', c->>'policy',
      'kind', kind, 'limit', lim, 'used', used, 'held', held,
      'remaining', CASE WHEN lim IS NOT NULL THEN greatest(0, lim - used - held) END, 'resetAt', reset_at));
  END LOOP;

  IF cardinality(gone_keys) > 0 THEN
    DELETE FROM keyguard_request_log l USING unnest(gone_keys, gone_since) AS g(key, since)
    WHERE l.key = g.key AND l.at <= g.since;
  END IF;
  -- every write in one statement: the new entries, the states, the record (a plain insert: no row of
  -- this id exists, and every reserve of it waits on the lock above)
  WITH added AS (
    INSERT INTO keyguard_request_log (key, at, id, amount, lease_end)
    SELECT x.key, now_ms, rid, x.amount, lease_end FROM unnest(log_keys, log_amounts) WITH ORDINALITY AS x(key, amount, o)
    ORDER BY x.o
  ), written AS (
    UPDATE keyguard_states s SET doc = new_docs[array_position(keys, s.key)], updated_at = now()
    WHERE s.key = ANY(keys)
  )
  INSERT INTO keyguard_reservations (id, doc, forget_at)
  VALUES (rid, jsonb_build_object('id', rid, 'status', 'live', 'leaseEnd', lease_end, 'finishedAt', now_ms,
    'charges', charges), NULL);
  RETURN jsonb_build_object('ok', true, 'replayed', false, 'events', '[]'::jsonb, 'states', states);
END
$$;
CREATE OR REPLACE FUNCTION keyguard_settle(input jsonb) RETURNS jsonb LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  now_ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  rid text := input->>'id';
  cost bigint := (input->>'costNanos')::bigint;
  charges jsonb;
  n integer;
  c jsonb;
  rule jsonb;
  kind text;
  k text;
  i integer;
  keys text[] := '{}';
  docs jsonb[];
  r record;
  rec jsonb;
  forget bigint;
  d jsonb;
  lim bigint;
  used bigint;
  held bigint;
  reset_at bigint;
  since bigint;
  used_gone bigint;
  held_gone bigint;
  oldest bigint;
  stale boolean;
  own bigint;
  crossed jsonb;
  new_docs jsonb[] := '{}';
  gone_keys text[] := '{}';
  gone_since bigint[] := '{}';
  own_keys text[] := '{}';
  own_since bigint[] := '{}';
  states jsonb := '[]';
  ignored boolean;
BEGIN
  IF input->'sync' = 'false' THEN ignored := set_config('synchronous_commit', 'off', true) IS NULL; END IF;
  SELECT x.doc, x.forget_at INTO rec, forget FROM keyguard_reservations x WHERE x.id = rid FOR UPDATE;
  IF rec IS NULL OR forget <= now_ms OR rec->>'status' IS DISTINCT FROM 'live'
    OR (rec->>'leaseEnd')::bigint <= now_ms THEN
    RETURN keyguard_settle_general(input);
  END IF;
  charges := rec->'charges';
  n := jsonb_array_length(charges);
  IF n IS NULL OR n = 0 THEN RETURN keyguard_settle_general(input); END IF;
  FOR i IN 0 .. n - 1 LOOP
    k := charges->i->>'key';
    kind := charges->i->'rule'->>'kind';
    IF k IS NULL OR k = ANY(keys) OR kind IS NULL OR kind NOT IN ('requests', 'spend', 'concurrency') THEN
      RETURN keyguard_settle_general(input);
    END IF;
    keys := keys || k;
  END LOOP;
  -- the states, locked in key order; docs in the order of `keys`
  docs := array_fill(NULL::jsonb, ARRAY[n]);
  FOR r IN SELECT s.key, s.doc FROM keyguard_states s WHERE s.key = ANY(keys) ORDER BY s.key FOR UPDATE LOOP
    docs[array_position(keys, r.key)] := r.doc;
  END LOOP;

  FOR i IN 0 .. n - 1 LOOP
    c := charges->i;
    rule := c->'rule';
    kind := rule->>'kind';
    k := keys[i + 1];
    d := docs[i + 1];
    IF d IS NULL OR jsonb_typeof(d) <> 'object' OR d->>'kind' IS DISTINCT FROM kind THEN
      RETURN keyguard_settle_general(input);
    END IF;
    reset_at := NULL;
    IF kind = 'requests' THEN
      IF d->>'key' IS DISTINCT FROM k THEN RETURN keyguard_settle_general(input); END IF;
      since := now_ms - (rule->>'windowMs')::bigint;
      -- the oldest entry (an ordered index scan), whether a live one in the window has its lease ended,
      -- and what this reservation's live entries in the window hold (NULL: none)
      SELECT (SELECT l.at FROM keyguard_request_log l WHERE l.key = k ORDER BY l.at LIMIT 1),
        COALESCE((SELECT l.lease_end FROM keyguard_request_log l WHERE l.key = k AND NOT l.settled
          ORDER BY l.lease_end LIMIT 1) <= now_ms, false),
        (SELECT sum(l.amount) FROM keyguard_request_log l WHERE l.key = k AND NOT l.settled
          AND l.lease_end = (rec->>'leaseEnd')::bigint AND l.id = rid AND l.at > since)::bigint
      INTO oldest, stale, own;
      IF stale THEN RETURN keyguard_settle_general(input); END IF;
      used := (d->>'used')::bigint;
      held := (d->>'held')::bigint;
      IF oldest <= since THEN
        -- what leaves the window now, and the oldest entry that stays
        SELECT COALESCE(sum(l.amount) FILTER (WHERE l.settled), 0)::bigint,
          COALESCE(sum(l.amount) FILTER (WHERE NOT l.settled), 0)::bigint,
          (SELECT l2.at FROM keyguard_request_log l2 WHERE l2.key = k AND l2.at > since ORDER BY l2.at LIMIT 1)
        INTO used_gone, held_gone, oldest
        FROM keyguard_request_log l WHERE l.key = k AND l.at <= since;
        used := used - used_gone;
        held := held - held_gone;
        gone_keys := gone_keys || k;
        gone_since := gone_since || since;
      END IF;
      lim := (rule->>'limit')::bigint;
      IF own IS NOT NULL THEN
        used := used + own;
        held := held - own;
        own_keys := own_keys || k;
        own_since := own_since || since;
      END IF;
      d := d || jsonb_build_object('used', used, 'held', held);
      IF oldest IS NOT NULL THEN reset_at := oldest + (rule->>'windowMs')::bigint; END IF;
    ELSE
      IF jsonb_typeof(d->'holds') <> 'array' THEN RETURN keyguard_settle_general(input); END IF;
      -- what the holds hold, whether one's lease has ended, what this reservation's hold (NULL: none)
      SELECT COALESCE(sum((h->>'amount')::bigint), 0)::bigint, COALESCE(bool_or((h->>'leaseEnd')::bigint <= now_ms), false),
        sum((h->>'amount')::bigint) FILTER (WHERE h->>'id' = rid)::bigint
      INTO held, stale, own FROM jsonb_array_elements(d->'holds') h;
      IF stale THEN RETURN keyguard_settle_general(input); END IF;
      IF own IS NOT NULL THEN
        held := held - own;
        d := jsonb_set(d, '{holds}', jsonb_path_query_array(d->'holds', '$[*] ? (@.id != $id)',
          jsonb_build_object('id', rid)));
      END IF;
      IF kind = 'spend' THEN
        used := (d->>'spent')::bigint;
        IF own IS NOT NULL THEN
          used := used + cost;
          d := jsonb_set(d, '{spent}', to_jsonb(used));
          -- a soft limit crossed now fires an event: the general path records it
          crossed := jsonb_path_query_array(rule, '$.softNanos[*] ? (@ <= $spent)', jsonb_build_object('spent', used));
          IF jsonb_array_length(crossed) > 0 AND NOT (d->'fired' @> crossed) THEN
            RETURN keyguard_settle_general(input);
          END IF;
        END IF;
        lim := (rule->>'limitNanos')::bigint + (d->>'bonus')::bigint;
        reset_at := (rule->'period'->>'endsAt')::bigint;
      ELSE
        used := 0;
        lim := (rule->>'limit')::bigint;
      END IF;
    END IF;
    new_docs := new_docs || d;
    states := states || jsonb_build_array(jsonb_build_object('scope', c->>'scope', 'policy', c->>'policy',
      'kind', kind, 'limit', lim, 'used', used, 'held', held,
      'remaining', CASE WHEN lim IS NOT NULL THEN greatest(0, lim - used - held) END, 'resetAt', reset_at));
  END LOOP;

  IF cardinality(gone_keys) > 0 THEN
    DELETE FROM keyguard_request_log l USING unnest(gone_keys, gone_since) AS g(key, since)
    WHERE l.key = g.key AND l.at <= g.since;
  END IF;
  WITH settled AS (
    UPDATE keyguard_request_log l SET settled = true
    WHERE l.key = ANY(own_keys) AND NOT l.settled AND l.lease_end = (rec->>'leaseEnd')::bigint AND l.id = rid
      AND l.at > own_since[array_position(own_keys, l.key)]
  ), written AS (
    UPDATE keyguard_states s SET doc = new_docs[array_position(keys, s.key)], updated_at = now()
    WHERE s.key = ANY(keys)
  )
  UPDATE keyguard_reservations x SET doc = rec || jsonb_build_object('status', 'settled', 'finishedAt', now_ms),
    forget_at = greatest((rec->>'leaseEnd')::bigint, now_ms) + 600000
  WHERE x.id = rid;
  RETURN jsonb_build_object('status', 'settled', 'states', states, 'events', '[]'::jsonb);
END
$$;
