"""The file server's gunicorn config: `gunicorn -c python:gunicorn_files ... wsgi:files`.

Every hook of common/gunicorn_hooks.py (heartbeats, metrics of all workers, workers stop with their master), and
the media store checked once in the master before it forks a worker: a wrong bucket, credentials or endpoint stop
the start with a message naming the setting, while a worker started later, during an outage of the store, boots
and answers 503 (a worker that fails to boot makes gunicorn stop the whole server).

Beside wsgi.py, not in fileserver/: importing that package imports prometheus_client, which must come after
common.gunicorn_hooks has pointed it at this process group's metrics folder."""

from common.gunicorn_hooks import *  # noqa: F403 - gunicorn reads the hooks from this module


def on_starting(server):
    from fileserver.config import load_files_config
    from fileserver.storage import check_at_start

    check_at_start(load_files_config(None))
