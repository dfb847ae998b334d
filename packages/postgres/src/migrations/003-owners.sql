-- keyguard object ownership (store-semantics §9): who created an upstream object (a stored response,
-- a stored chat completion), first claim wins until expires_at (database time); an expired row reads
-- as unknown and may be claimed anew. Expired rows are deleted in batches by the store.
CREATE TABLE keyguard_owners (
  object_id text PRIMARY KEY,
  owner text NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX keyguard_owners_expires_at ON keyguard_owners (expires_at);
