-- Projections: rebuildable read models of the events, with PostGIS geometry (SRID 4326) and GiST indexes.
-- Geometry columns are generated from the coordinates, so a row and its geometry can never disagree.
-- last_position: the last event that changed the row (live deltas resume from a position).
-- Frequently updated tables leave room in each page (fillfactor) and index only columns that rarely change,
-- so most updates are HOT (no index maintenance).

CREATE TABLE proj_roles (
  role_id        text             PRIMARY KEY,
  version        integer          NOT NULL,
  region_id      text             NOT NULL,
  name           text             NOT NULL,
  -- the collective point of the role's area (a coarse grid cell's centre)
  area_lon       double precision NOT NULL,
  area_lat       double precision NOT NULL,
  -- the public (jittered) home, when the role placed one
  public_lon     double precision,
  public_lat     double precision,
  inaccuracy_m   integer,
  located        boolean          NOT NULL,
  created_at     timestamptz      NOT NULL,
  updated_at     timestamptz      NOT NULL,
  last_position  bigint           NOT NULL,
  geom geometry(Point, 4326) GENERATED ALWAYS AS
    (ST_SetSRID(ST_MakePoint(COALESCE(public_lon, area_lon), COALESCE(public_lat, area_lat)), 4326)) STORED
) WITH (fillfactor = 70);
CREATE INDEX proj_roles_region_idx ON proj_roles (region_id);

CREATE TABLE proj_nodes (
  node_id           text             PRIMARY KEY,
  version           integer          NOT NULL,
  region_id         text             NOT NULL,
  title             text             NOT NULL,
  kind              text             NOT NULL,
  author_role_id    text             NOT NULL,
  lon               double precision NOT NULL,
  lat               double precision NOT NULL,
  hidden            boolean          NOT NULL,
  hidden_reason     text,
  hidden_at         timestamptz,
  created_at        timestamptz      NOT NULL,
  -- the node's creation or its latest thread engagement, whichever is later
  last_activity_at  timestamptz      NOT NULL,
  thread_count      integer          NOT NULL,
  proposal_count    integer          NOT NULL,
  last_position     bigint           NOT NULL,
  geom geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED
) WITH (fillfactor = 70);
CREATE INDEX proj_nodes_geom_gist ON proj_nodes USING gist (geom);
CREATE INDEX proj_nodes_region_idx ON proj_nodes (region_id);

CREATE TABLE proj_threads (
  thread_id         text             PRIMARY KEY,
  version           integer          NOT NULL,
  role_id           text             NOT NULL,
  node_id           text             NOT NULL,
  region_id         text             NOT NULL,
  -- from the role's public position (or its area's collective point) to the node
  from_lon          double precision NOT NULL,
  from_lat          double precision NOT NULL,
  to_lon            double precision NOT NULL,
  to_lat            double precision NOT NULL,
  spun_at           timestamptz      NOT NULL,
  last_activity_at  timestamptz      NOT NULL,
  engagements       integer          NOT NULL,
  faded             boolean          NOT NULL,
  faded_at          timestamptz,
  last_position     bigint           NOT NULL,
  geom geometry(LineString, 4326) GENERATED ALWAYS AS
    (ST_SetSRID(ST_MakeLine(ST_MakePoint(from_lon, from_lat), ST_MakePoint(to_lon, to_lat)), 4326)) STORED
) WITH (fillfactor = 70);
CREATE INDEX proj_threads_geom_gist ON proj_threads USING gist (geom);
CREATE INDEX proj_threads_role_idx ON proj_threads (role_id);
CREATE INDEX proj_threads_node_idx ON proj_threads (node_id);

CREATE TABLE proj_proposals (
  proposal_id     text        PRIMARY KEY,
  version         integer     NOT NULL,
  node_id         text        NOT NULL,
  region_id       text        NOT NULL,
  author_role_id  text        NOT NULL,
  title           text        NOT NULL,
  body            text        NOT NULL,
  -- the node's point (proposals are shown where their node is)
  lon             double precision NOT NULL,
  lat             double precision NOT NULL,
  opened_at       timestamptz NOT NULL,
  closes_at       timestamptz NOT NULL,
  closed          boolean     NOT NULL,
  closed_at       timestamptz,
  votes_yes       integer     NOT NULL,
  votes_no        integer     NOT NULL,
  votes_abstain   integer     NOT NULL,
  last_position   bigint      NOT NULL
) WITH (fillfactor = 70);
CREATE INDEX proj_proposals_node_idx ON proj_proposals (node_id);

CREATE TABLE proj_votes (
  proposal_id    text        NOT NULL,
  role_id        text        NOT NULL,
  choice         text        NOT NULL,
  cast_at        timestamptz NOT NULL,
  changes        integer     NOT NULL,
  last_position  bigint      NOT NULL,
  PRIMARY KEY (proposal_id, role_id)
) WITH (fillfactor = 70);

CREATE TABLE proj_timeline (
  position     bigint           PRIMARY KEY,
  occurred_at  timestamptz      NOT NULL,
  region_id    text             NOT NULL,
  stream_type  text             NOT NULL,
  stream_id    text             NOT NULL,
  type         text             NOT NULL,
  actor        text             NOT NULL,
  summary      text             NOT NULL,
  -- where it happened (a public point), when it has a place
  lon          double precision,
  lat          double precision
);
CREATE INDEX proj_timeline_region_idx ON proj_timeline (region_id, position);

CREATE TABLE proj_region_stats (
  region_id           text        PRIMARY KEY,
  roles               integer     NOT NULL,
  located_roles       integer     NOT NULL,
  nodes               integer     NOT NULL,
  hidden_nodes        integer     NOT NULL,
  threads             integer     NOT NULL,
  faded_threads       integer     NOT NULL,
  engagements         integer     NOT NULL,
  proposals           integer     NOT NULL,
  closed_proposals    integer     NOT NULL,
  votes               integer     NOT NULL,
  events              integer     NOT NULL,
  first_activity_at   timestamptz NOT NULL,
  last_activity_at    timestamptz NOT NULL,
  last_position       bigint      NOT NULL
) WITH (fillfactor = 70);
