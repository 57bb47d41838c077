-- 0005 revocable logins, one login limit per account, unique festival names after NFC + case folding (postgresql).
-- The name keys of existing rows are filled in by app/migrations/data.py (Python's Unicode tables).
CREATE TABLE "login_session" ("session_id" VARCHAR(32) NOT NULL PRIMARY KEY, "session_user" INTEGER NOT NULL, "session_via" VARCHAR(16) NOT NULL, "session_created" TIMESTAMP NOT NULL, "session_expires" TIMESTAMP NOT NULL, "session_revoked" TIMESTAMP, FOREIGN KEY ("session_user") REFERENCES "app_user" ("user_id") ON DELETE CASCADE);
CREATE INDEX "login_session_session_user" ON "login_session" ("session_user");
CREATE TABLE "login_throttle" ("throttle_key" VARCHAR(300) NOT NULL, "throttle_window" BIGINT NOT NULL, "throttle_count" INTEGER NOT NULL, PRIMARY KEY ("throttle_key", "throttle_window"));
ALTER TABLE "festival" ADD COLUMN "festival_name_key" VARCHAR(1024);
CREATE UNIQUE INDEX "festival_festival_name_key" ON "festival" ("festival_name_key");
