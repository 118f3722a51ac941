-- Small documents beside the invites (groups, API keys: store.ts, DocName), each read
-- and changed whole under its row lock.

-- Up Migration

CREATE TABLE documents (
  name text PRIMARY KEY,
  doc  jsonb NOT NULL
);

-- Down Migration

DROP TABLE documents;
