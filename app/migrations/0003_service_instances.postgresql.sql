-- 0003 service instances seen through heartbeats (PostgreSQL).
CREATE TABLE "service_instance" ("instance_id" SERIAL NOT NULL PRIMARY KEY, "instance_service" VARCHAR(64) NOT NULL, "instance_host" VARCHAR(255) NOT NULL, "instance_port" INTEGER NOT NULL, "instance_available" BOOLEAN NOT NULL, "instance_last_seen" TIMESTAMP NOT NULL, "instance_key_id" INTEGER);
CREATE INDEX "service_instance_instance_last_seen" ON "service_instance" ("instance_last_seen");
CREATE UNIQUE INDEX "service_instance_instance_service_instance_host_instance_port" ON "service_instance" ("instance_service", "instance_host", "instance_port");
