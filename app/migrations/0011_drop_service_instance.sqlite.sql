-- 0011 the discovery registry lives in the gateway (gateway/registry.py): the table of 0003 was never used.
DROP TABLE "service_instance";
