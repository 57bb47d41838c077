-- 0006 answers of POSTs with an Idempotency-Key (sqlite): one row per caller and key, written in the POST's transaction.
CREATE TABLE "idempotency_record" ("idem_caller" VARCHAR(64) NOT NULL, "idem_key" VARCHAR(255) NOT NULL, "idem_fingerprint" VARCHAR(64) NOT NULL, "idem_status" INTEGER NOT NULL, "idem_answer" TEXT NOT NULL, "idem_created" DATETIME NOT NULL, PRIMARY KEY ("idem_caller", "idem_key"));
CREATE INDEX "idempotency_record_idem_created" ON "idempotency_record" ("idem_created");
