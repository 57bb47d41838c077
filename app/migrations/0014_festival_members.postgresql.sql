-- 0014 a festival's members (issue 23): editors besides its owner, who edit it and its events (postgresql).
CREATE TABLE "festival_member" ("id" SERIAL NOT NULL PRIMARY KEY, "festival_id" INTEGER NOT NULL, "user_id" INTEGER NOT NULL, "member_role" VARCHAR(16) NOT NULL, "member_created" TIMESTAMP NOT NULL, FOREIGN KEY ("festival_id") REFERENCES "festival" ("festival_id") ON DELETE CASCADE, FOREIGN KEY ("user_id") REFERENCES "app_user" ("user_id") ON DELETE CASCADE);
CREATE UNIQUE INDEX "festival_member_festival_id_user_id" ON "festival_member" ("festival_id", "user_id");
CREATE INDEX "festival_member_user_id" ON "festival_member" ("user_id");
