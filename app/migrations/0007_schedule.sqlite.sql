-- 0007 a festival's time zone (IANA name; times stay unix seconds) and the order of its stages (sqlite).
ALTER TABLE "festival" ADD COLUMN "festival_timezone" VARCHAR(64) NOT NULL DEFAULT 'UTC';
CREATE TABLE "festival_stage" ("id" INTEGER NOT NULL PRIMARY KEY, "festival_id" INTEGER NOT NULL, "location_id" INTEGER NOT NULL, "stage_position" INTEGER NOT NULL, FOREIGN KEY ("festival_id") REFERENCES "festival" ("festival_id") ON DELETE CASCADE, FOREIGN KEY ("location_id") REFERENCES "location" ("location_id") ON DELETE CASCADE);
CREATE UNIQUE INDEX "festival_stage_festival_id_location_id" ON "festival_stage" ("festival_id", "location_id");
CREATE INDEX "festival_stage_location_id" ON "festival_stage" ("location_id");
