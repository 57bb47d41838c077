-- 0004 data versions: one change counter per table, bumped in the transaction of every write that touches
-- the table (app/data_versions.py). Reads build their ETag and cache key from the counters they depend on.
CREATE TABLE "data_version" ("kind" VARCHAR(64) NOT NULL PRIMARY KEY, "version" BIGINT NOT NULL);
