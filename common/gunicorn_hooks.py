"""gunicorn config hooks: `gunicorn -c python:common.gunicorn_hooks ... wsgi:app`. A part with hooks of its own
has a config module that adds them to these (`-c python:gunicorn_files ... wsgi:files`); this module
imports none of the parts.

- Heartbeats for the master (one per instance, whatever the number of workers) from a child process started by
  exec (common/heartbeat.py: no thread in the forking master), and a last "not available" beat on a clean stop.
  Without FESTIVALS_DISCOVERY_URL and FESTIVALS_SERVICE_KEY nothing is sent.
- Its access log, when turned on, names no secret of a URL path (RedactingLogger).
- Prometheus multiprocess mode (common/metrics.py): loading this config points PROMETHEUS_MULTIPROC_DIR at a
  fresh folder of this process group, `<FESTIVALS_METRICS_DIR>/<master pid>` (default `<instance>/metrics/`),
  before the app or prometheus_client is imported anywhere (also with --preload); workers inherit it. A dead
  worker's live gauges are dropped (`child_exit`), its counters stay; the folder goes on a clean stop, and
  folders of masters that are no longer running go at the next start.
- Each answer's headers go out in one write with its first body bytes (common/gunicorn_response.py): a worker
  killed mid-answer leaves the gateway nothing it cannot retry, rather than headers without a body.
- Workers stop with their master (`post_fork`, `post_worker_init`): when it dies (even by SIGKILL) each worker
  finishes the requests it has begun and exits, within the graceful timeout, or is ended by the kernel soon
  after: a worker left behind would hold the instance's port, and the restarted master could not bind it."""

from __future__ import annotations

import math
import os
import shutil
import signal

from gunicorn.glogging import Logger

from common import gunicorn_response
from common.files import private_folder
from common.heartbeat import HeartbeatProcess, configured, die_with_parent
from common.logs import loggable_path
from common.settings import InstanceSettings, load

SERVICES = {"app": "app", "files": "files", "identity_app": "identity"}  # wsgi entry point -> service name
_senders = []


def _pid_alive(name: str) -> bool:
    try:
        os.kill(int(name), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def prepare_metrics_dir() -> str:
    """A fresh, empty folder for this process group's metric files (owner only); old groups' folders go."""
    instance = private_folder(os.path.abspath(SETTINGS.instance_path))
    parent = os.path.abspath(SETTINGS.metrics_dir or os.path.join(instance, "metrics"))
    private_folder(parent)
    for name in os.listdir(parent):
        if not _pid_alive(name):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)
    folder = os.path.join(parent, str(os.getpid()))
    shutil.rmtree(folder, ignore_errors=True)  # a pid reused from a run that did not stop cleanly
    os.makedirs(folder, mode=0o700)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    return folder


SETTINGS = load(InstanceSettings)  # read once, when gunicorn loads this config: a wrong value stops the start
_metrics_dir = prepare_metrics_dir()
gunicorn_response.install()


class RedactingLogger(Logger):
    """gunicorn's access log (when turned on: --access-logfile) without the secrets of a URL path, also in
    the Referer of a page that had one (common/logs.py)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: loggable_path(value) if isinstance(value, str) else value for key, value in atoms.items()}


logger_class = RedactingLogger


def when_ready(server):
    entry = (getattr(server.app, "app_uri", "") or "").rpartition(":")[2]
    port = next(
        (
            listener.sock.getsockname()[1]
            for listener in server.LISTENERS
            if isinstance(listener.sock.getsockname(), tuple)
        ),
        None,
    )
    server.log.info("metrics of all workers in %s", _metrics_dir)
    if port and configured(SETTINGS):
        beats = HeartbeatProcess(SERVICES.get(entry, entry), port, SETTINGS.heartbeat_s).start()
        _senders.append(beats)
        server.log.info(
            "heartbeats every %ss to %s from process %s",
            SETTINGS.heartbeat_s,
            SETTINGS.discovery_url,
            beats.process.pid,
        )


def post_fork(server, worker):
    """The kernel sends this worker SIGTERM when its master dies (PR_SET_PDEATHSIG, Linux): gunicorn's graceful
    stop, so a response it has begun is finished (the gateway cannot retry a response it has passed on; one not
    begun yet fails on the connection and is retried on another instance). post_worker_init bounds that stop."""
    if not die_with_parent(signal.SIGTERM):  # not Linux: supervisor's stopasgroup/killasgroup still end the group
        server.log.warning("worker %s: could not ask to stop with the master (prctl)", os.getpid())
    if os.getppid() != server.pid:  # the master died before prctl: nobody would signal us
        os._exit(0)


def post_worker_init(worker):
    """A stopping worker ends itself when its graceful stop outlasts the graceful timeout: the SIGTERM handler
    also sets an alarm, and SIGALRM's default action ends the process in the kernel, even when a thread of ours
    hangs (with a dead master nobody else would escalate to SIGKILL)."""
    graceful_stop = signal.getsignal(signal.SIGTERM)
    seconds = math.ceil(worker.cfg.graceful_timeout) + 2

    def stop(signum, frame):
        signal.alarm(seconds)
        graceful_stop(signum, frame)

    signal.signal(signal.SIGTERM, stop)
    if not worker.alive or os.getppid() != worker.ppid:  # told to stop (or orphaned) while loading the app
        signal.alarm(seconds)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, _metrics_dir)


def on_exit(server):
    for sender in _senders:
        sender.stop()
    shutil.rmtree(_metrics_dir, ignore_errors=True)
