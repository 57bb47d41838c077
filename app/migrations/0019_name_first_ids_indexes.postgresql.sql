-- 0019 event name= search among the first ids by partial trigram indexes (issue 24): indexes of the events with ids
-- below 16,384 and below 131,072 (app/services/reads.py, NAME_BUCKET_SHIFTS: the same bounds, written into the
-- search, or the planner cannot use them). A search there reads posting lists of those events only; 0018's id
-- bucket columns made it read a bucket's own list beside the trigrams' (a third more of the server's CPU at 1M
-- events). The name index holds the names alone again.
DROP INDEX "event_name_trgm";
CREATE INDEX "event_name_trgm" ON "event" USING gin ("event_name" gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX "event_name_trgm_below_16384" ON "event" USING gin ("event_name" gin_trgm_ops) WITH (fastupdate = off) WHERE "event_id" < 16384;
CREATE INDEX "event_name_trgm_below_131072" ON "event" USING gin ("event_name" gin_trgm_ops) WITH (fastupdate = off) WHERE "event_id" < 131072;
