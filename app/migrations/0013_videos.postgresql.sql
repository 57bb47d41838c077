-- 0013 videos (issue 25): the videos entity and its to-one relation from festivals, artists and events.
CREATE TABLE "video" ("video_id" SERIAL NOT NULL PRIMARY KEY, "video_version" TIMESTAMP NOT NULL, "video_created" TIMESTAMP NOT NULL, "video_owner" INTEGER, "video_hash" VARCHAR(255) NOT NULL, "video_ref" VARCHAR(2083) NOT NULL, "video_duration" DOUBLE PRECISION NOT NULL, "video_width" INTEGER NOT NULL, "video_height" INTEGER NOT NULL, "video_mime" VARCHAR(255) NOT NULL, FOREIGN KEY ("video_owner") REFERENCES "app_user" ("user_id") ON DELETE SET NULL);
CREATE INDEX "video_video_version" ON "video" ("video_version");
CREATE INDEX "video_video_owner" ON "video" ("video_owner");
CREATE INDEX "video_video_hash" ON "video" ("video_hash");
CREATE TABLE "map_festival_video" ("id" SERIAL NOT NULL PRIMARY KEY, "festival_id" INTEGER NOT NULL, "video_id" INTEGER NOT NULL, FOREIGN KEY ("festival_id") REFERENCES "festival" ("festival_id") ON DELETE CASCADE, FOREIGN KEY ("video_id") REFERENCES "video" ("video_id") ON DELETE CASCADE);
CREATE UNIQUE INDEX "map_festival_video_festival_id" ON "map_festival_video" ("festival_id");
CREATE INDEX "map_festival_video_video_id" ON "map_festival_video" ("video_id");
CREATE TABLE "map_artist_video" ("id" SERIAL NOT NULL PRIMARY KEY, "artist_id" INTEGER NOT NULL, "video_id" INTEGER NOT NULL, FOREIGN KEY ("artist_id") REFERENCES "artist" ("artist_id") ON DELETE CASCADE, FOREIGN KEY ("video_id") REFERENCES "video" ("video_id") ON DELETE CASCADE);
CREATE UNIQUE INDEX "map_artist_video_artist_id" ON "map_artist_video" ("artist_id");
CREATE INDEX "map_artist_video_video_id" ON "map_artist_video" ("video_id");
CREATE TABLE "map_event_video" ("id" SERIAL NOT NULL PRIMARY KEY, "event_id" INTEGER NOT NULL, "video_id" INTEGER NOT NULL, FOREIGN KEY ("event_id") REFERENCES "event" ("event_id") ON DELETE CASCADE, FOREIGN KEY ("video_id") REFERENCES "video" ("video_id") ON DELETE CASCADE);
CREATE UNIQUE INDEX "map_event_video_event_id" ON "map_event_video" ("event_id");
CREATE INDEX "map_event_video_video_id" ON "map_event_video" ("video_id");
