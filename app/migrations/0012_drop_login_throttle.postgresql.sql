-- 0012 login attempts are counted by app/services/throttle.py (limits, in Redis or memory): the table of 0005 is unused.
DROP TABLE "login_throttle";
