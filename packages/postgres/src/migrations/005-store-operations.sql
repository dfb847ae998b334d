-- keyguard store operations: one function per KeyguardStore method, so each is one statement, one
-- round trip, one transaction. Time is the database's, read once per call. An operation's work is
-- carried in `w` (jsonb): `st` the locked state docs by key, `recs` the reservation records by id,
-- `dirty` the records to write, `events` what happened. State rows are locked in key order, so two
-- operations naming the same states never wait on each other in a cycle; a reclaim that reaches a
-- state outside that order may, and Postgres then aborts one side (40P01), which the client reruns.
-- The rules themselves are in 004-store-rules.sql.

CREATE FUNCTION keyguard_work() RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT '{"st": {}, "recs": {}, "dirty": {}, "events": []}'::jsonb
$$;

-- Lock the state rows of `keys` not locked yet (creating empty ones), in key order, and load them.
-- INSERT ... ON CONFLICT DO UPDATE locks an existing row as FOR UPDATE would, and creates a missing
-- one (a lock on a row that does not exist yet would not hold off a concurrent insert).
CREATE FUNCTION keyguard_lock(INOUT w jsonb, keys text[]) LANGUAGE plpgsql AS $$
DECLARE
  missing text[];
  r record;
BEGIN
  SELECT array_agg(DISTINCT k ORDER BY k) INTO missing FROM unnest(keys) k WHERE NOT (w->'st') ? k;
  IF missing IS NULL THEN RETURN; END IF;
  FOR r IN INSERT INTO keyguard_states AS s (key) SELECT k FROM unnest(missing) k ORDER BY k
      ON CONFLICT (key) DO UPDATE SET updated_at = s.updated_at RETURNING s.key, s.doc LOOP
    w := jsonb_set(w, ARRAY['st', r.key], COALESCE(r.doc, 'null'));
  END LOOP;
END
$$;

-- Lock and load a reservation record (NULL: unknown or forgotten).
CREATE FUNCTION keyguard_record(INOUT w jsonb, id text, at bigint, OUT rec jsonb) LANGUAGE plpgsql AS $$
DECLARE
  forget bigint;
BEGIN
  IF (w->'recs') ? id THEN
    rec := NULLIF(w->'recs'->id, 'null');
    RETURN;
  END IF;
  SELECT r.doc, r.forget_at INTO rec, forget FROM keyguard_reservations r WHERE r.id = keyguard_record.id FOR UPDATE;
  IF forget IS NOT NULL AND forget <= at THEN rec := NULL; END IF;
  w := jsonb_set(w, ARRAY['recs', id], COALESCE(rec, 'null'));
END
$$;

-- Keep a reservation record (new or changed) to be written.
CREATE FUNCTION keyguard_put(w jsonb, rec jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_set(jsonb_set(w, ARRAY['recs', rec->>'id'], rec), ARRAY['dirty', rec->>'id'], 'true')
$$;

-- End a live reservation whose lease has passed: spend and credits as spent, rates as released.
CREATE FUNCTION keyguard_reclaim(INOUT w jsonb, rec jsonb, at bigint) LANGUAGE plpgsql AS $$
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
    d := keyguard_doc_for(w->'st'->(c->>'key'), c->'rule', at);
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

-- Reclaim every expired hold in the state of `key` (§4): its reservation ends as `expired`.
CREATE FUNCTION keyguard_reclaim_in(INOUT w jsonb, key text, rule jsonb, at bigint) LANGUAGE plpgsql AS $$
DECLARE
  id text;
  rec jsonb;
BEGIN
  w := jsonb_set(w, ARRAY['st', key], keyguard_doc_for(w->'st'->key, rule, at));
  FOREACH id IN ARRAY keyguard_expired_ids(w->'st'->key, at) LOOP
    SELECT * INTO w, rec FROM keyguard_record(w, id, at);
    IF rec->>'status' = 'live' THEN w := keyguard_reclaim(w, rec, at);
    ELSE w := jsonb_set(w, ARRAY['st', key], keyguard_remove_hold(keyguard_doc_for(w->'st'->key, rule, at), id));
    END IF;
  END LOOP;
END
$$;

-- Write back every locked state and every changed record; a finished record is forgotten 10
-- minutes after it ended (replays and settle answers need it until then).
CREATE FUNCTION keyguard_commit(w jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE keyguard_states AS s SET doc = v.value, updated_at = now()
    FROM jsonb_each(w->'st') AS v WHERE s.key = v.key AND v.value <> 'null';
  INSERT INTO keyguard_reservations AS r (id, doc, forget_at)
    SELECT v.key, v.value, CASE WHEN v.value->>'status' = 'live' THEN NULL
      ELSE greatest((v.value->>'leaseEnd')::bigint, (v.value->>'finishedAt')::bigint) + 600000 END
    FROM jsonb_each(w->'recs') AS v WHERE (w->'dirty') ? v.key
    ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, forget_at = EXCLUDED.forget_at;
END
$$;

CREATE FUNCTION keyguard_now() RETURNS bigint LANGUAGE sql VOLATILE AS $$
  SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint
$$;

-- The states of a record's charges as a caller sees them.
CREATE FUNCTION keyguard_record_states(w jsonb, rec jsonb, at bigint) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT COALESCE(jsonb_agg(keyguard_describe(c->>'scope', c->>'policy', c->'rule',
    keyguard_view(w->'st'->(c->>'key'), c->'rule', at), at) ORDER BY o), '[]')
  FROM jsonb_array_elements(rec->'charges') WITH ORDINALITY AS t(c, o)
$$;

-- Commit mode for this transaction only: `sync` false lets the commit return before it reaches disk.
CREATE FUNCTION keyguard_commit_mode(input jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF input->'sync' = 'false' THEN PERFORM set_config('synchronous_commit', 'off', true); END IF;
END
$$;

-- reserve: input { id, leaseMs, charges: [{ scope, policy, rule, amount, key }], sync }.
CREATE FUNCTION keyguard_reserve(input jsonb) RETURNS jsonb LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  at bigint := keyguard_now();
  rid text := input->>'id';
  charges jsonb := input->'charges';
  w jsonb := keyguard_work();
  rec jsonb;
  forget bigint;
  c jsonb;
  i integer;
  d jsonb;
  taken bigint;
  remaining bigint;
  lease_end bigint := at + (input->>'leaseMs')::bigint;
  events jsonb;
BEGIN
  PERFORM keyguard_commit_mode(input);
  INSERT INTO keyguard_reservations AS r (id) VALUES (rid) ON CONFLICT ON CONSTRAINT keyguard_reservations_pkey
    DO UPDATE SET id = r.id RETURNING r.doc, r.forget_at INTO rec, forget;
  IF rec IS NOT NULL AND (forget IS NULL OR forget > at) THEN
    RETURN jsonb_build_object('ok', true, 'replayed', true, 'events', '[]'::jsonb, 'states',
      (SELECT COALESCE(jsonb_agg(keyguard_describe(x->>'scope', x->>'policy', x->'rule',
        keyguard_view((SELECT s.doc FROM keyguard_states s WHERE s.key = x->>'key'), x->'rule', at), at) ORDER BY o), '[]')
       FROM jsonb_array_elements(charges) WITH ORDINALITY AS t(x, o)));
  END IF;
  w := keyguard_lock(w, ARRAY(SELECT x->>'key' FROM jsonb_array_elements(charges) x));
  FOR c IN SELECT x FROM jsonb_array_elements(charges) WITH ORDINALITY AS t(x, o) ORDER BY o LOOP
    w := keyguard_reclaim_in(w, c->>'key', c->'rule', at);
  END LOOP;
  FOR i IN 0 .. jsonb_array_length(charges) - 1 LOOP
    c := charges->i;
    SELECT COALESCE(sum((x->>'amount')::bigint), 0) INTO taken
      FROM jsonb_array_elements(charges) WITH ORDINALITY AS t(x, o) WHERE o <= i AND x->>'key' = c->>'key';
    d := keyguard_doc_for(w->'st'->(c->>'key'), c->'rule', at);
    w := jsonb_set(w, ARRAY['st', c->>'key'], d);
    remaining := keyguard_remaining(d, c->'rule', taken);
    IF remaining IS NOT NULL AND (c->>'amount')::bigint > remaining THEN
      -- a deny records nothing: the placeholder row is due for the purge now
      UPDATE keyguard_reservations r SET forget_at = at WHERE r.id = rid AND r.doc IS NULL;
      PERFORM keyguard_commit(w);
      RETURN jsonb_build_object('ok', false, 'events', w->'events',
        'denial', keyguard_denial(c, d, taken, remaining, at));
    END IF;
  END LOOP;
  FOR c IN SELECT x FROM jsonb_array_elements(charges) WITH ORDINALITY AS t(x, o) ORDER BY o LOOP
    w := jsonb_set(w, ARRAY['st', c->>'key'], keyguard_add_hold(keyguard_doc_for(w->'st'->(c->>'key'), c->'rule', at),
      rid, (c->>'amount')::bigint, lease_end, at));
  END LOOP;
  w := keyguard_put(w, jsonb_build_object('id', rid, 'status', 'live', 'leaseEnd', lease_end, 'finishedAt', at,
    'charges', charges));
  events := w->'events';
  FOR c IN SELECT x FROM jsonb_array_elements(charges) WITH ORDINALITY AS t(x, o)
      WHERE x->'rule'->>'kind' = 'credits' AND o = (SELECT min(o2) FROM jsonb_array_elements(charges) WITH ORDINALITY AS t2(y, o2)
        WHERE y->>'key' = x->>'key') ORDER BY o LOOP
    d := w->'st'->(c->>'key');
    CONTINUE WHEN d->>'kind' <> 'credits';
    SELECT * INTO d, events FROM keyguard_credit_events(d, c->'rule', c->>'scope', c->>'policy', events);
    w := jsonb_set(w, ARRAY['st', c->>'key'], d);
  END LOOP;
  PERFORM keyguard_commit(w);
  RETURN jsonb_build_object('ok', true, 'replayed', false, 'events', events, 'states',
    (SELECT jsonb_agg(keyguard_describe(x->>'scope', x->>'policy', x->'rule', w->'st'->(x->>'key'), at) ORDER BY o)
     FROM jsonb_array_elements(charges) WITH ORDINALITY AS t(x, o)));
END
$$;

-- settle: input { id, costNanos, tokens, sync }.
CREATE FUNCTION keyguard_settle(input jsonb) RETURNS jsonb LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  at bigint := keyguard_now();
  w jsonb := keyguard_work();
  rec jsonb;
  c jsonb;
  d jsonb;
  events jsonb;
BEGIN
  PERFORM keyguard_commit_mode(input);
  SELECT * INTO w, rec FROM keyguard_record(w, input->>'id', at);
  IF rec IS NULL THEN RETURN jsonb_build_object('status', 'unknown', 'states', '[]'::jsonb, 'events', '[]'::jsonb); END IF;
  w := keyguard_lock(w, ARRAY(SELECT x->>'key' FROM jsonb_array_elements(rec->'charges') x));
  IF rec->>'status' <> 'live' THEN
    RETURN jsonb_build_object('status', CASE WHEN rec->>'status' = 'settled' THEN 'already-settled' ELSE rec->>'status' END,
      'states', keyguard_record_states(w, rec, at), 'events', '[]'::jsonb);
  END IF;
  IF (rec->>'leaseEnd')::bigint <= at THEN
    w := keyguard_reclaim(w, rec, at);
    PERFORM keyguard_commit(w);
    RETURN jsonb_build_object('status', 'expired', 'states', keyguard_record_states(w, rec, at), 'events', w->'events');
  END IF;
  w := keyguard_put(w, rec || jsonb_build_object('status', 'settled', 'finishedAt', at));
  FOR c IN SELECT x FROM jsonb_array_elements(rec->'charges') WITH ORDINALITY AS t(x, o) ORDER BY o LOOP
    w := keyguard_reclaim_in(w, c->>'key', c->'rule', at);
  END LOOP;
  events := w->'events';
  FOR c IN SELECT x FROM jsonb_array_elements(rec->'charges') WITH ORDINALITY AS t(x, o) ORDER BY o LOOP
    d := keyguard_end_hold(keyguard_doc_for(w->'st'->(c->>'key'), c->'rule', at), rec->>'id', c->'rule', 'settle',
      CASE WHEN c->'rule'->>'kind' = 'tokens' THEN (input->>'tokens')::bigint ELSE (input->>'costNanos')::bigint END);
    CONTINUE WHEN d IS NULL;
    SELECT * INTO d, events FROM keyguard_after_money(d, c->'rule', c->>'scope', c->>'policy', events);
    w := jsonb_set(w, ARRAY['st', c->>'key'], d);
  END LOOP;
  PERFORM keyguard_commit(w);
  RETURN jsonb_build_object('status', 'settled', 'states', keyguard_record_states(w, rec, at), 'events', events);
END
$$;

-- release: input { id, sync }.
CREATE FUNCTION keyguard_release(input jsonb) RETURNS jsonb LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  at bigint := keyguard_now();
  w jsonb := keyguard_work();
  rec jsonb;
  c jsonb;
  d jsonb;
BEGIN
  PERFORM keyguard_commit_mode(input);
  SELECT * INTO w, rec FROM keyguard_record(w, input->>'id', at);
  IF rec IS NULL THEN RETURN jsonb_build_object('status', 'unknown'); END IF;
  IF rec->>'status' = 'released' THEN RETURN jsonb_build_object('status', 'already-released'); END IF;
  IF rec->>'status' <> 'live' THEN RETURN jsonb_build_object('status', rec->>'status'); END IF;
  w := keyguard_lock(w, ARRAY(SELECT x->>'key' FROM jsonb_array_elements(rec->'charges') x));
  IF (rec->>'leaseEnd')::bigint <= at THEN
    w := keyguard_reclaim(w, rec, at);
    PERFORM keyguard_commit(w);
    RETURN jsonb_build_object('status', 'expired');
  END IF;
  w := keyguard_put(w, rec || jsonb_build_object('status', 'released', 'finishedAt', at));
  FOR c IN SELECT x FROM jsonb_array_elements(rec->'charges') WITH ORDINALITY AS t(x, o) ORDER BY o LOOP
    w := keyguard_reclaim_in(w, c->>'key', c->'rule', at);
  END LOOP;
  FOR c IN SELECT x FROM jsonb_array_elements(rec->'charges') WITH ORDINALITY AS t(x, o) ORDER BY o LOOP
    d := keyguard_end_hold(keyguard_doc_for(w->'st'->(c->>'key'), c->'rule', at), rec->>'id', c->'rule', 'release', 0);
    CONTINUE WHEN d IS NULL;
    w := jsonb_set(w, ARRAY['st', c->>'key'], d);
  END LOOP;
  PERFORM keyguard_commit(w);
  RETURN jsonb_build_object('status', 'released');
END
$$;

-- peek: input { scope, policies: [{ policy, rule, key }] }; reads without locking, writes nothing.
CREATE FUNCTION keyguard_peek(input jsonb) RETURNS jsonb LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  at bigint := keyguard_now();
BEGIN
  RETURN (SELECT COALESCE(jsonb_agg(keyguard_describe(input->>'scope', p->>'policy', p->'rule',
      keyguard_view((SELECT s.doc FROM keyguard_states s WHERE s.key = p->>'key'), p->'rule', at), at) ORDER BY o), '[]')
    FROM jsonb_array_elements(input->'policies') WITH ORDINALITY AS t(p, o));
END
$$;

-- adjust: input { scope, policy, rule, key, delta, expiresAt, idempotencyKey, sync }. An applied
-- idempotency key is remembered for 7 days.
CREATE FUNCTION keyguard_adjust(input jsonb) RETURNS jsonb LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  at bigint := keyguard_now();
  w jsonb := keyguard_work();
  key text := input->>'key';
  rule jsonb := input->'rule';
  idem text := input->>'idempotencyKey';
  d jsonb;
  keys jsonb;
BEGIN
  PERFORM keyguard_commit_mode(input);
  w := keyguard_lock(w, ARRAY[key]);
  w := keyguard_reclaim_in(w, key, rule, at);
  d := keyguard_doc_for(w->'st'->key, rule, at);
  keys := COALESCE((SELECT jsonb_object_agg(k, v) FROM jsonb_each(COALESCE(d->'keys', '{}')) AS e(k, v)
    WHERE (v #>> '{}')::bigint > at), '{}');
  IF idem IS NULL OR NOT keys ? idem THEN
    d := keyguard_adjust_doc(d, rule, (input->>'delta')::bigint, (input->>'expiresAt')::bigint, idem);
    IF idem IS NOT NULL THEN keys := keys || jsonb_build_object(idem, at + 7 * 24 * 3600000); END IF;
  END IF;
  d := d || jsonb_build_object('keys', keys);
  w := jsonb_set(w, ARRAY['st', key], d);
  PERFORM keyguard_commit(w);
  RETURN keyguard_describe(input->>'scope', input->>'policy', rule, d, at);
END
$$;
