-- 0016 undo (issue 23): the last change to a festival's events, per user, for app/services/undo.py.
CREATE TABLE "undo_step" ("undo_id" INTEGER NOT NULL PRIMARY KEY, "undo_at" DATETIME NOT NULL, "undo_user_id" INTEGER NOT NULL, "undo_festival_id" INTEGER NOT NULL, "undo_label" VARCHAR(600) NOT NULL, "undo_state" TEXT NOT NULL);
CREATE INDEX "undo_step_undo_user_id" ON "undo_step" ("undo_user_id");
