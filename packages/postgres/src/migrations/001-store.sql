-- keyguard store: one row per (scope, policy[, period]) state and one per reservation. A state's
-- numbers live in `doc` (JSON integers: nanos are exact up to 2^53, as in core); rows are locked
-- with SELECT ... FOR UPDATE in key order, so concurrent operations serialize per state.
CREATE TABLE keyguard_states (
  key text PRIMARY KEY,
  doc jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- doc NULL: a reserve that was denied (the id reads as unknown). forget_at: when a finished
-- reservation's id is forgotten (epoch ms); NULL while it is live.
CREATE TABLE keyguard_reservations (
  id text PRIMARY KEY,
  doc jsonb,
  forget_at bigint
);
CREATE INDEX keyguard_reservations_forget_at ON keyguard_reservations (forget_at) WHERE forget_at IS NOT NULL;
