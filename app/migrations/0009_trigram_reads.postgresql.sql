-- 0009 trigram indexes without a pending list: with GIN's fastupdate, inserted rows wait in an unsorted list
-- that EVERY name= search scans until a vacuum merges it (after the bench's 1M-event COPY: 509 pages, a search
-- 13 ms -> 331 ms). Reads far outnumber writes here, so writes merge their rows at once instead.
ALTER INDEX "festival_name_trgm" SET (fastupdate = off);
ALTER INDEX "event_name_trgm" SET (fastupdate = off);
ALTER INDEX "artist_name_trgm" SET (fastupdate = off);
ALTER INDEX "location_name_trgm" SET (fastupdate = off);
ALTER INDEX "tag_name_trgm" SET (fastupdate = off);
SELECT gin_clean_pending_list('"festival_name_trgm"'::regclass);
SELECT gin_clean_pending_list('"event_name_trgm"'::regclass);
SELECT gin_clean_pending_list('"artist_name_trgm"'::regclass);
SELECT gin_clean_pending_list('"location_name_trgm"'::regclass);
SELECT gin_clean_pending_list('"tag_name_trgm"'::regclass);
