-- keyguard ledger: append-only. One row per settled call (idempotent on the reservation id) and one
-- per credit movement (idempotent on its id). Money is BIGINT nano-USD; the key itself never appears,
-- only its name and fingerprint.
CREATE TABLE keyguard_calls (
  reservation_id text PRIMARY KEY,
  scope jsonb NOT NULL,
  key_name text NOT NULL,
  key_fingerprint text NOT NULL,
  model text,
  endpoint text NOT NULL,
  input_tokens bigint NOT NULL DEFAULT 0,
  cached_input_tokens bigint NOT NULL DEFAULT 0,
  output_tokens bigint NOT NULL DEFAULT 0,
  reasoning_tokens bigint NOT NULL DEFAULT 0,
  total_tokens bigint NOT NULL DEFAULT 0,
  cost_nanos bigint NOT NULL CHECK (cost_nanos >= 0),
  ending text NOT NULL,
  estimated boolean NOT NULL,
  -- the spend and credits states charged: [{ scope, policy, kind, resetAt }]
  charges jsonb NOT NULL DEFAULT '[]',
  started_at timestamptz NOT NULL,
  settled_at timestamptz NOT NULL,
  upstream_request_id text,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX keyguard_calls_settled_at ON keyguard_calls (settled_at);
CREATE INDEX keyguard_calls_tenant ON keyguard_calls ((scope->>'tenant'), settled_at);

CREATE TABLE keyguard_credit_movements (
  id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('grant', 'consume', 'recharge', 'expiry')),
  scope text NOT NULL,
  policy text NOT NULL,
  amount_nanos bigint NOT NULL CHECK (amount_nanos >= 0),
  expires_at timestamptz,
  reservation_id text,
  at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX keyguard_credit_movements_scope ON keyguard_credit_movements (scope, policy, at);

CREATE FUNCTION keyguard_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'keyguard ledger tables are append-only (% on %)', TG_OP, TG_TABLE_NAME;
END
$$;
CREATE TRIGGER keyguard_calls_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON keyguard_calls
  FOR EACH STATEMENT EXECUTE FUNCTION keyguard_append_only();
CREATE TRIGGER keyguard_credit_movements_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON keyguard_credit_movements
  FOR EACH STATEMENT EXECUTE FUNCTION keyguard_append_only();
