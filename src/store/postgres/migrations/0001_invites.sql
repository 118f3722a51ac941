-- The PostgreSQL invite store's first schema (node-pg-migrate, SQL migration).
-- `invites.invite` is the whole invite and the source of truth; the other columns are
-- derived from it on every write (postgres-store.ts, columnsOf) for lists and look-ups.

-- Up Migration

CREATE TABLE invites (
  -- "C": ordered by code unit, as the lowdb store and the cursors compare ids.
  id             text COLLATE "C" PRIMARY KEY,
  token_hash     text NOT NULL UNIQUE,
  created_by     text NOT NULL,
  created_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  revoked_at     timestamptz,
  max_uses       integer NOT NULL,
  -- Uses that are not pending (isOpen counts only those).
  confirmed_uses integer NOT NULL,
  has_pending    boolean NOT NULL,
  -- Raised by every change: archive() moves a row only if it is still the one it judged.
  version        bigint NOT NULL DEFAULT 1,
  invite         jsonb NOT NULL
);

-- A creator's invites in list order (quotas, createdBy(), a creator's pages).
CREATE INDEX invites_by_creator ON invites (created_by, created_at, id);
-- Everyone's pages: rows that may still be open (expiry is checked on the way).
CREATE INDEX invites_open ON invites (created_at, id)
  WHERE revoked_at IS NULL AND confirmed_uses < max_uses;
-- Invites with a use in doubt (settlePending).
CREATE INDEX invites_pending ON invites (id) WHERE has_pending;

CREATE TABLE roles (
  jid  text NOT NULL,
  role text NOT NULL,
  -- Grant order, so roles() lists them as granted.
  seq  bigserial NOT NULL,
  PRIMARY KEY (jid, role)
);

-- Every instance keeps the roles in memory (admin checks are synchronous): each change
-- is announced on the channel invite_store_roles with the account's JID as payload, or
-- '*' after a TRUNCATE, whoever made it (this service or an operator with psql).
CREATE FUNCTION invite_store_roles_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    PERFORM pg_notify('invite_store_roles', '*');
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('invite_store_roles', OLD.jid);
  ELSE
    PERFORM pg_notify('invite_store_roles', NEW.jid);
    IF TG_OP = 'UPDATE' AND OLD.jid IS DISTINCT FROM NEW.jid THEN
      PERFORM pg_notify('invite_store_roles', OLD.jid);
    END IF;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER roles_changed AFTER INSERT OR UPDATE OR DELETE ON roles
  FOR EACH ROW EXECUTE FUNCTION invite_store_roles_changed();
CREATE TRIGGER roles_truncated AFTER TRUNCATE ON roles
  FOR EACH STATEMENT EXECUTE FUNCTION invite_store_roles_changed();

-- Ended invites moved out of the live table (archive()), dropped after ARCHIVE_DAYS.
CREATE TABLE archived_invites (
  id          text NOT NULL,
  archived_at timestamptz NOT NULL DEFAULT now(),
  invite      jsonb NOT NULL,
  PRIMARY KEY (id, archived_at)
);
CREATE INDEX archived_invites_by_time ON archived_invites (archived_at);

-- Down Migration

DROP TABLE archived_invites;
DROP TABLE roles;
DROP FUNCTION invite_store_roles_changed();
DROP TABLE invites;
