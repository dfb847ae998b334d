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


-- The same for a reserve of one charge, on plain variables: no arrays to build or look into, one row
-- lock, the writes as VALUES. Same answer, same fallback.
CREATE FUNCTION keyguard_reserve_one(rid text, lease_ms bigint, k text, kind text, amount bigint, lim bigint,
  window_ms bigint, ends bigint, charges jsonb, sync boolean) RETURNS jsonb
LANGUAGE plpgsql SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  now_ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
  d jsonb;
  blocked boolean;
  used bigint;
  held bigint;
  cap bigint;
  oldest bigint;
  aged boolean;
  ignored boolean;
BEGIN
  IF NOT sync THEN ignored := set_config('synchronous_commit', 'off', true) IS NULL; END IF;
  ignored := pg_advisory_xact_lock(hashtextextended('keyguard.reserve:' || current_schema() || ':' || rid, 0)) IS NULL;
  -- the state, locked, and whether a record of this id exists (no row: both NULL, and blocked below)
  SELECT s.doc, EXISTS (SELECT FROM keyguard_reservations r WHERE r.id = rid)
  INTO d, blocked FROM keyguard_states s WHERE s.key = k FOR UPDATE;
  IF kind = 'requests' THEN
    SELECT (SELECT l.at FROM keyguard_request_log l WHERE l.key = k ORDER BY l.at LIMIT 1),
      COALESCE((SELECT l.lease_end FROM keyguard_request_log l WHERE l.key = k AND NOT l.settled
        ORDER BY l.lease_end LIMIT 1) <= now_ms, false)
        OR blocked OR d->>'kind' IS DISTINCT FROM 'requests' OR d->>'key' IS DISTINCT FROM k,
      (d->>'used')::bigint, (d->>'held')::bigint
    INTO oldest, blocked, used, held;
    IF oldest <= now_ms - window_ms AND NOT blocked THEN
      -- what leaves the window now (deleted below), and the oldest entry that stays
      SELECT used - COALESCE(sum(l.amount) FILTER (WHERE l.settled), 0)::bigint,
        held - COALESCE(sum(l.amount) FILTER (WHERE NOT l.settled), 0)::bigint,
        (SELECT l2.at FROM keyguard_request_log l2 WHERE l2.key = k AND l2.at > now_ms - window_ms
          ORDER BY l2.at LIMIT 1)
      INTO used, held, oldest
      FROM keyguard_request_log l WHERE l.key = k AND l.at <= now_ms - window_ms;
      aged := true;
    END IF;
    IF blocked OR amount > greatest(0, lim - used - held) THEN
      RETURN keyguard_reserve_general(jsonb_build_object('id', rid, 'leaseMs', lease_ms, 'charges', charges, 'sync', sync));
    END IF;
    IF aged THEN DELETE FROM keyguard_request_log l WHERE l.key = k AND l.at <= now_ms - window_ms; END IF;
    WITH added AS (
      INSERT INTO keyguard_request_log (key, at, id, amount, lease_end) VALUES (k, now_ms, rid, amount, now_ms + lease_ms)
    ), written AS (
      UPDATE keyguard_states s SET doc = d || jsonb_build_object('used', used, 'held', held + amount), updated_at = now()
      WHERE s.key = k
    )
    INSERT INTO keyguard_reservations (id, doc, forget_at)
    VALUES (rid, jsonb_build_object('id', rid, 'status', 'live', 'leaseEnd', now_ms + lease_ms, 'finishedAt', now_ms,
      'charges', charges), NULL);
    RETURN to_jsonb(ARRAY[lim, used, held + amount, least(oldest, now_ms) + window_ms]);
  END IF;
  -- spend or concurrency: what the holds hold, whether one's lease has ended or is this reservation's (or
  -- the doc is not a state of this kind), and the state's sums
  SELECT COALESCE(sum((h->>'amount')::bigint), 0)::bigint,
    COALESCE(bool_or((h->>'leaseEnd')::bigint <= now_ms OR h->>'id' = rid), false)
      OR blocked OR d->>'kind' IS DISTINCT FROM kind OR jsonb_typeof(d->'holds') IS DISTINCT FROM 'array',
    CASE WHEN kind = 'spend' THEN (d->>'spent')::bigint ELSE 0 END,
    CASE WHEN kind = 'spend' THEN lim + (d->>'bonus')::bigint ELSE lim END
  INTO held, blocked, used, cap
  FROM jsonb_array_elements(CASE WHEN jsonb_typeof(d->'holds') = 'array' THEN d->'holds' END) h;
  IF blocked OR lim IS NOT NULL AND amount > greatest(0, cap - used - held) THEN
    RETURN keyguard_reserve_general(jsonb_build_object('id', rid, 'leaseMs', lease_ms, 'charges', charges, 'sync', sync));
  END IF;
  WITH written AS (
    UPDATE keyguard_states s SET doc = jsonb_set(d, '{holds}', d->'holds' || jsonb_build_array(
      jsonb_build_object('id', rid, 'amount', amount, 'leaseEnd', now_ms + lease_ms))), updated_at = now()
    WHERE s.key = k
  )
  INSERT INTO keyguard_reservations (id, doc, forget_at)
  VALUES (rid, jsonb_build_object('id', rid, 'status', 'live', 'leaseEnd', now_ms + lease_ms, 'finishedAt', now_ms,
    'charges', charges), NULL);
  RETURN to_jsonb(ARRAY[cap, used, held + amount, ends]);
END
$$;

-- Reserve and settle of migration 10 reach the log by index whatever the statistics say. With statistics
-- of a few thousand live entries, Postgres planned their 'has a live lease ended' EXISTS as a scan of the
-- whole log (3,020 rows read for one reserve; 1,070 such scans reading 24M rows in one 8,000-call run),
-- and settle's lookup and UPDATE of its own entries read the key's whole window or the whole table. Now
-- the lease check asks the live index for its first entry (`ORDER BY lease_end LIMIT 1`, then `<= now`;
-- a live entry outside the window whose lease has ended also sends the call to the general path, which
-- reclaims it as it did), and settle finds its own entries by (key, lease_end): every live entry of a
-- reservation ends with its record's lease. Each function is patched where it differs, and the patch
-- fails unless the text it replaces is there exactly once.
CREATE OR REPLACE FUNCTION pg_temp.keyguard_patch(fn regprocedure, old text, new text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  def text := pg_get_functiondef(fn);
BEGIN
  IF array_length(string_to_array(def, old), 1) IS DISTINCT FROM 2 THEN
    RAISE EXCEPTION 'migration 11: % does not hold the text it patches exactly once: %', fn, old;
  END IF;
  EXECUTE replace(def, old, new);
END
$$;
SELECT pg_temp.keyguard_patch('keyguard_reserve(jsonb)'::regprocedure,
$old$        EXISTS (SELECT FROM keyguard_request_log l WHERE l.key = k AND NOT l.settled
          AND l.lease_end <= now_ms AND l.at > since)
      INTO oldest, stale;$old$,
$new$        COALESCE((SELECT l.lease_end FROM keyguard_request_log l WHERE l.key = k AND NOT l.settled
          ORDER BY l.lease_end LIMIT 1) <= now_ms, false)
      INTO oldest, stale;$new$);
SELECT pg_temp.keyguard_patch('keyguard_settle(jsonb)'::regprocedure,
$old$        EXISTS (SELECT FROM keyguard_request_log l WHERE l.key = k AND NOT l.settled
          AND l.lease_end <= now_ms AND l.at > since),
        (SELECT sum(l.amount) FROM keyguard_request_log l WHERE l.key = k AND NOT l.settled AND l.id = rid
          AND l.at > since)::bigint$old$,
$new$        COALESCE((SELECT l.lease_end FROM keyguard_request_log l WHERE l.key = k AND NOT l.settled
          ORDER BY l.lease_end LIMIT 1) <= now_ms, false),
        (SELECT sum(l.amount) FROM keyguard_request_log l WHERE l.key = k AND NOT l.settled
          AND l.lease_end = (rec->>'leaseEnd')::bigint AND l.id = rid AND l.at > since)::bigint$new$);
SELECT pg_temp.keyguard_patch('keyguard_settle(jsonb)'::regprocedure,
$old$    WHERE l.key = ANY(own_keys) AND NOT l.settled AND l.id = rid AND l.at > own_since[array_position(own_keys, l.key)]$old$,
$new$    WHERE l.key = ANY(own_keys) AND NOT l.settled AND l.lease_end = (rec->>'leaseEnd')::bigint AND l.id = rid
      AND l.at > own_since[array_position(own_keys, l.key)]$new$);
DROP FUNCTION pg_temp.keyguard_patch(regprocedure, text, text);
