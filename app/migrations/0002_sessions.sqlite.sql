-- 0002 refresh tokens and password reset links (SQLite).
CREATE TABLE "refresh_token" ("refresh_id" INTEGER NOT NULL PRIMARY KEY, "refresh_user" INTEGER NOT NULL, "refresh_family" VARCHAR(32) NOT NULL, "refresh_hash" VARCHAR(64) NOT NULL, "refresh_created" DATETIME NOT NULL, "refresh_expires" DATETIME NOT NULL, "refresh_used" DATETIME, "refresh_revoked" DATETIME, FOREIGN KEY ("refresh_user") REFERENCES "app_user" ("user_id") ON DELETE CASCADE);
CREATE INDEX "refresh_token_refresh_user" ON "refresh_token" ("refresh_user");
CREATE INDEX "refresh_token_refresh_family" ON "refresh_token" ("refresh_family");
CREATE UNIQUE INDEX "refresh_token_refresh_hash" ON "refresh_token" ("refresh_hash");
CREATE TABLE "password_reset" ("reset_id" INTEGER NOT NULL PRIMARY KEY, "reset_user" INTEGER NOT NULL, "reset_hash" VARCHAR(64) NOT NULL, "reset_created" DATETIME NOT NULL, "reset_created_by" INTEGER, "reset_expires" DATETIME NOT NULL, "reset_used" DATETIME, FOREIGN KEY ("reset_user") REFERENCES "app_user" ("user_id") ON DELETE CASCADE);
CREATE INDEX "password_reset_reset_user" ON "password_reset" ("reset_user");
CREATE UNIQUE INDEX "password_reset_reset_hash" ON "password_reset" ("reset_hash");
