"""One way to start a server process: the gunicorn command line of each kind of process and the environment
it gets. Tests, bench and scripts (scripts/run, scripts/stack's supervisord programs) all start them here.

    python -m common.launch KIND --bind HOST:PORT [--workers N] [--threads N] [--graceful-timeout S]
                            [--require-tls] [-- GUNICORN OPTION ...]

KIND is app, identity, files or registry (or a WSGI entry such as `tests.fork_app:app`), started with the config
CONFIGS names; the process serves mTLS when FESTIVALS_TLS_CERT/_KEY/_CA are set (common/tls.py). The command
replaces itself with gunicorn (exec: the supervisor's or the shell's child is gunicorn's master, signals reach
it unchanged)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping

from common.settings import Shared, load
from common.tls import TlsFiles

ENTRIES = {"app": "wsgi:app", "identity": "wsgi:identity_app", "files": "wsgi:files", "registry": "wsgi:registry"}
HOOKS = "python:common.gunicorn_hooks"
# gunicorn's config (-c) of each kind: the file server's has its media store checked once in the master
# (gunicorn_files.py); the registry has none: it is one worker and sends no heartbeats (they come to it), even
# where the host's settings file names a discovery URL and a Service-Key for the others
CONFIGS = {"app": HOOKS, "identity": HOOKS, "files": "python:gunicorn_files", "registry": None}
GUNICORN = os.path.join(os.path.dirname(sys.executable), "gunicorn")
SETTINGS_PREFIX = "FESTIVALS_"


def gunicorn_command(
    kind: str,
    bind: str,
    *,
    workers: int = 2,
    threads: int = 4,
    graceful_timeout: float | None = None,
    tls: TlsFiles | None = None,
    hooks: bool = True,
    options: tuple[str, ...] | list[str] = (),
) -> list[str]:
    """gunicorn of `kind` bound to `bind`. `hooks`: the kind's config (CONFIGS; common/gunicorn_hooks.py:
    heartbeats, metrics of every worker in one folder, redacted access log, workers that die with their
    master); `tls`: serve mTLS and require a client certificate of its CA."""
    entry = ENTRIES.get(kind, kind)
    kind = next((known for known, its_entry in ENTRIES.items() if its_entry == entry), kind)  # "wsgi:files" too
    argv = [GUNICORN]
    if hooks and (config := CONFIGS.get(kind, HOOKS)):
        argv += ["-c", config]
    argv += ["--bind", bind, "--workers", str(workers), "--threads", str(threads)]
    if graceful_timeout is not None:
        argv += ["--graceful-timeout", f"{graceful_timeout:g}"]
    argv += ["--no-control-socket", *(tls.gunicorn_args() if tls else []), *options]
    return [*argv, entry]


def process_env(settings: Mapping[str, object] | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a started process: this one's (or `base`) without any FESTIVALS_* setting, plus
    `settings` (values as text; None leaves a variable out). A process gets exactly the settings its starter
    names, never one that happens to be set where the starter runs (a suite run on PostgreSQL, a developer's
    shell)."""
    inherited = os.environ if base is None else base
    env = {key: value for key, value in inherited.items() if not key.startswith(SETTINGS_PREFIX)}
    env.update({key: str(value) for key, value in (settings or {}).items() if value is not None})
    return env


def main(argv: list[str]) -> int:
    own, options = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    parser = argparse.ArgumentParser(prog="python -m common.launch", description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", help=f"{', '.join(ENTRIES)} or a WSGI entry (module:name)")
    parser.add_argument("--bind", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--graceful-timeout", type=float)
    parser.add_argument("--require-tls", action="store_true", help="refuse to start without FESTIVALS_TLS_*")
    args = parser.parse_args(own)
    try:
        tls = TlsFiles.of(load(Shared))
        tls.check()
        if args.require_tls and not tls.enabled:
            raise ValueError("FESTIVALS_TLS_CERT, FESTIVALS_TLS_KEY and FESTIVALS_TLS_CA must be set (--require-tls)")
    except ValueError as exc:
        print(f"launch: {exc}", file=sys.stderr)
        return 1
    command = gunicorn_command(
        args.kind,
        args.bind,
        workers=args.workers,
        threads=args.threads,
        graceful_timeout=args.graceful_timeout,
        tls=tls,
        options=options,
    )
    os.execv(command[0], command)
    return 1  # not reached: exec replaced this process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
