-- 0004 data versions: one change counter per table, bumped in the transaction of every write that touches
-- the table (app/data_versions.py). Reads build their ETag and cache key from the counters they depend on.
CREATE TABLE "data_version" ("kind" VARCHAR(64) NOT NULL PRIMARY KEY, "version" BIGINT NOT NULL);
-- Indexes for reads at scale: case-insensitive substring search on names (ILIKE '%s%') through trigrams,
-- and the event side of the festival -> event relation already has its own indexes (0001).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX "festival_name_trgm" ON "festival" USING gin ("festival_name" gin_trgm_ops);
CREATE INDEX "event_name_trgm" ON "event" USING gin ("event_name" gin_trgm_ops);
CREATE INDEX "artist_name_trgm" ON "artist" USING gin ("artist_name" gin_trgm_ops);
CREATE INDEX "location_name_trgm" ON "location" USING gin ("location_name" gin_trgm_ops);
CREATE INDEX "tag_name_trgm" ON "tag" USING gin ("tag_name" gin_trgm_ops);
