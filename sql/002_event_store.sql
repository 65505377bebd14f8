-- The event store: one append-only events table, its head (global position), idempotency keys, the outbox,
-- the audit log, projection checkpoints and the private side tables that never leave the database.

-- Every event of every stream, in one global order. Positions are gap-free: they are handed out under the
-- row lock of event_log_head, so they also commit in order (a reader of "position > P" never misses one).
CREATE TABLE events (
  position        bigint      PRIMARY KEY CHECK (position >= 1),
  event_id        uuid        NOT NULL UNIQUE,
  stream_id       text        NOT NULL,
  stream_type     text        NOT NULL,
  stream_version  integer     NOT NULL CHECK (stream_version >= 1),
  type            text        NOT NULL,
  payload         jsonb       NOT NULL,
  -- who (actor), idempotency key, request id
  metadata        jsonb       NOT NULL CHECK (metadata ? 'actor'),
  occurred_at     timestamptz NOT NULL,
  recorded_at     timestamptz NOT NULL,
  CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
);

-- Append-only: rows are never updated or deleted, the table never truncated.
CREATE FUNCTION weft_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the events table is append-only (% refused)', TG_OP;
END
$$;
CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION weft_events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION weft_events_append_only();

-- The single row every writer locks first: the last position handed out. Serialises appends.
CREATE TABLE event_log_head (
  id        boolean PRIMARY KEY DEFAULT true CHECK (id),
  position  bigint  NOT NULL
);
INSERT INTO event_log_head (id, position) VALUES (true, 0);

-- A repeated idempotency key returns the first result and appends nothing.
CREATE TABLE idempotency_keys (
  key             text        PRIMARY KEY,
  request_hash    text        NOT NULL,
  result          jsonb       NOT NULL,
  first_position  bigint,
  last_position   bigint,
  recorded_at     timestamptz NOT NULL
);

-- One row per committed transaction that appended events: the publisher (bus) reads the events of
-- first_position..last_position, sends them, and marks the row published.
CREATE TABLE outbox (
  id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  first_position  bigint      NOT NULL,
  last_position   bigint      NOT NULL,
  -- the topics the events concern, e.g. "region:monaco"
  topics          text[]      NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  published_at    timestamptz,
  attempts        integer     NOT NULL DEFAULT 0,
  CHECK (first_position <= last_position)
);
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;

-- What automation and operators did (migrations, rebuilds, imports, seeds, fades, promotions, snapshots).
CREATE TABLE audit_log (
  id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at       timestamptz NOT NULL DEFAULT now(),
  actor    text        NOT NULL,
  action   text        NOT NULL,
  subject  text,
  details  jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);

-- The last event position each projector has applied.
CREATE TABLE projection_checkpoints (
  name        text        PRIMARY KEY,
  position    bigint      NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Private: a located role's exact home, kept only here (never in events, projections, exports or logs).
CREATE TABLE role_homes_private (
  role_id    text        PRIMARY KEY,
  lon        double precision NOT NULL,
  lat        double precision NOT NULL,
  home_hash  text        NOT NULL,
  placed_at  timestamptz NOT NULL
);
CREATE INDEX role_homes_private_hash_idx ON role_homes_private (home_hash);

-- Private settings of this database (e.g. the home-coarsening salt when WEFT_HOME_SALT is unset).
CREATE TABLE private_settings (
  key    text PRIMARY KEY,
  value  text NOT NULL
);
