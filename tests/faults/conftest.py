"""Faults injected into real processes: the app under gunicorn (`serve_app`: 2 workers, 4 threads each, the
gunicorn hooks config) on a database of the test's own, whatever FESTIVALS_DATABASE_URL says (a SQLite file, or
a private PostgreSQL cluster: the shared server is never stopped)."""
