-- Follow-ups of invites used on an instance that did not lead (a web registration
-- there), for the leader to run: see follow-up-relay.ts.

-- Up Migration

CREATE TABLE follow_ups (
  id         bigserial PRIMARY KEY,
  -- The core's UsedEvent, as JSON.
  event      jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration

DROP TABLE follow_ups;
