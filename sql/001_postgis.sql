-- PostGIS: geometry types (SRID 4326) and GiST indexing for the projections.
CREATE EXTENSION IF NOT EXISTS postgis;
