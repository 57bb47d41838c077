"""scripts/stack's processes under supervisord: its config, written into the instance folder.

Why supervisor (PyPI `supervisor`): a long-kept process supervisor in pure Python that installs into .venv
(nothing as root), runs in the foreground (`supervisord -n`: Ctrl-C stops every program), restarts a program
that exits (a crash during start-up again after 1, 2, 3 ... s, its back-off), signals whole process groups
(`stopasgroup`/`killasgroup`: no gunicorn worker outlives a stop), and `supervisorctl` stops and starts one
program at a time for a rolling restart. Real hosts use systemd instead (deploy/*.service).

    python -m common.supervise init CONF
    python -m common.supervise add CONF NAME [--address HOST:PORT] [KEY=VALUE ...] -- COMMAND [ARG ...]
    python -m common.supervise group CONF NAME PROGRAM ...

`add` appends a program; `--address` (where it serves) goes to CONF's programs file (`programs(CONF)`), which
the rolling restart (gateway/rolling.py) reads. `group` puts programs in a group that supervisord stops at once
(it stops groups one after another) and which is stopped before the programs outside it (the instances before
the registry and Caddy: their last beats still arrive); supervisorctl then names them `GROUP:PROGRAM`.
Values are written so that supervisor reads them back exactly; one it could not (a newline, both kinds of
quotes) is refused with a message."""

from __future__ import annotations

import json
import os
import shlex
import sys

# Every program: restarted whenever it exits; "started" after 3 s up (an exit before that is a failed start,
# tried again after a growing delay, 10 times); stopped with SIGTERM to its whole process group, SIGKILL to the
# group after 20 s; its output interleaved in supervisord's own (the terminal of scripts/stack).
PROGRAM_DEFAULTS = {
    "autostart": "true",
    "autorestart": "true",
    "startsecs": "3",
    "startretries": "10",
    "stopsignal": "TERM",
    "stopwaitsecs": "20",
    "stopasgroup": "true",
    "killasgroup": "true",
    "redirect_stderr": "true",
    "stdout_logfile": "/dev/stdout",
    "stdout_logfile_maxbytes": "0",
}
SOCKET_MAX = 100  # AF_UNIX paths are at most 107 bytes


class Unwritable(ValueError):
    pass


def _plain(value: str, what: str) -> str:
    """A value for supervisor's ini file: `%` doubled (its expansions), no line breaks or inline comments."""
    if "\n" in value or "\r" in value or " ;" in value or " #" in value or "\t;" in value or "\t#" in value:
        raise Unwritable(f"{what}: supervisor cannot read back {value!r} (a line break or ' ;' / ' #')")
    return value.replace("%", "%%")


def _env_value(key: str, value: str) -> str:
    if '"' in value and "'" in value:
        raise Unwritable(f"{key}: supervisor cannot read back a value with both kinds of quotes")
    quote = "'" if '"' in value else '"'
    return f"{key}={quote}{_plain(value, key)}{quote}"


def socket_path(conf: str) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(conf)), "supervisor.sock")


def programs(conf: str) -> str:
    return os.path.abspath(conf) + ".programs.json"


def header(conf: str) -> str:
    folder = os.path.dirname(os.path.abspath(conf))
    sock = socket_path(conf)
    if len(sock.encode()) > SOCKET_MAX:
        raise Unwritable(f"the control socket's path is too long for a Unix socket: {sock}")
    return "\n".join(
        [
            "[supervisord]",
            "nodaemon=true",
            f"logfile={_plain(os.path.join(folder, 'supervisord.log'), 'logfile')}",
            "logfile_maxbytes=10MB",
            f"pidfile={_plain(os.path.join(folder, 'supervisord.pid'), 'pidfile')}",
            f"childlogdir={_plain(folder, 'childlogdir')}",
            "",
            "[unix_http_server]",  # supervisorctl's way in: a socket only its owner may open
            f"file={_plain(sock, 'socket')}",
            "chmod=0700",
            "",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "",
            "[supervisorctl]",
            f"serverurl=unix://{_plain(sock, 'socket')}",
            "",
        ]
    )


def program(name: str, argv: list[str], env: dict[str, str], directory: str, priority: int) -> str:
    if not name.replace("-", "").replace("_", "").isalnum():
        raise Unwritable(f"a program name of letters, digits, - and _: {name!r}")
    if not argv:
        raise Unwritable(f"{name}: no command")
    lines = [
        f"[program:{name}]",
        f"command={_plain(shlex.join(argv), 'command')}",
        f"directory={_plain(directory, 'directory')}",
        f"priority={priority}",
    ]
    if env:
        lines.append("environment=" + ",".join(_env_value(key, value) for key, value in env.items()))
    lines += [f"{key}={value}" for key, value in PROGRAM_DEFAULTS.items()]
    return "\n".join(lines) + "\n\n"


def init(conf: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(conf)), mode=0o700, exist_ok=True)
    text = header(conf)
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # environments hold keys
    with os.fdopen(fd, "w") as out:
        out.write(text)
    with open(programs(conf), "w") as out:
        json.dump({}, out)


def add(conf: str, name: str, argv: list[str], env: dict[str, str], address: str | None) -> None:
    with open(programs(conf)) as file:
        known = json.load(file)
    if name in known:
        raise Unwritable(f"program {name} is there already")
    text = program(name, argv, env, os.getcwd(), priority=10 * (len(known) + 1))
    with open(conf, "a") as out:
        out.write(text)
    known[name] = {"address": address, "group": None, "drain": env.get("FESTIVALS_DRAIN_FILE")}
    with open(programs(conf), "w") as out:
        json.dump(known, out, indent=1)


def group(conf: str, name: str, members: list[str]) -> None:
    with open(programs(conf)) as file:
        known = json.load(file)
    if unknown := [member for member in members if member not in known]:
        raise Unwritable(f"group {name}: no such programs: {', '.join(unknown)}")
    with open(conf, "a") as out:
        out.write(f"[group:{name}]\nprograms={','.join(members)}\npriority=999\n\n")
    for member in members:
        known[member]["group"] = name
    with open(programs(conf), "w") as out:
        json.dump(known, out, indent=1)


def main(args: list[str]) -> int:
    usage = __doc__.split("\n\n")[2]
    try:
        if len(args) == 2 and args[0] == "init":
            init(args[1])
            return 0
        if len(args) >= 5 and args[0] == "add" and "--" in args:
            split = args.index("--")
            conf, name, options, argv = args[1], args[2], args[3:split], args[split + 1 :]
            address = None
            if options[:1] == ["--address"] and len(options) >= 2:
                address, options = options[1], options[2:]
            if any("=" not in option for option in options):
                raise Unwritable(f"settings are KEY=VALUE: {options}")
            add(conf, name, argv, dict(option.split("=", 1) for option in options), address)
            return 0
        if len(args) >= 4 and args[0] == "group":
            group(args[1], args[2], args[3:])
            return 0
    except (Unwritable, OSError) as exc:
        print(f"supervise: {exc}", file=sys.stderr)
        return 1
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
