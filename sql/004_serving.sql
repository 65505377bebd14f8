-- Serving: the write API's credentials. Participants' session tokens (only a sha256 of each token is kept)
-- and partner sites (their HMAC keys and the browser origins CORS admits for them). Private like
-- role_homes_private: never in events, projections, exports or logs.
-- Which roles a partner may act for is not stored here: it is a role whose RoleRegistered event (stream
-- version 1) was written by the actor 'partner:<name>' (the event store stays the one truth).

CREATE TABLE session_tokens (
  -- sha256 (hex) of the whole token text ("wft_…"); the token itself is shown once and never stored
  token_hash  text        PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  role_id     text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  text        NOT NULL,
  revoked_at  timestamptz
);
CREATE INDEX session_tokens_role_idx ON session_tokens (role_id);

CREATE TABLE partners (
  name        text        PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
  -- the HMAC-SHA256 key ("wfp_…"); kept because verifying a signature needs it
  secret      text        NOT NULL,
  -- browser origins (scheme://host[:port]) the write API admits for this partner (CORS)
  origins     text[]      NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  text        NOT NULL,
  revoked_at  timestamptz
);
