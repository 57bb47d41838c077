-- 0017 event name= search by id range (issue 24): the event trigram index also holds each event's id bucket
-- (event_id >> 17: 131,072 ids to a bucket; btree_gin indexes it), so a search within the table's first bucket
-- reads only that part of every trigram's posting list and visits only its matching rows
-- (app/services/reads.py, NAME_BUCKET_SHIFTS) instead of every match in the table. Searches on the name alone
-- use the index as before.
CREATE EXTENSION IF NOT EXISTS btree_gin;
DROP INDEX "event_name_trgm";
CREATE INDEX "event_name_trgm" ON "event" USING gin ("event_name" gin_trgm_ops, ("event_id" >> 17)) WITH (fastupdate = off);
