"""Rolling restart of the instances scripts/stack runs under supervisord, one at a time, with no failed request:

0. wait until the instances that take over have no recent failed request in Caddy (its passive health check
   passes such an instance over for a few seconds: draining then left nothing to answer, a 503);
1. drain: create the instance's FESTIVALS_DRAIN_FILE; its /ready answers 503 (the gateway's health checks stop
   sending it requests) and its next heartbeat says "available": false (the registry takes it out of Caddy's
   upstreams);
2. wait until it is out of every upstream list and Caddy has no request in flight to it;
3. stop it (supervisord: SIGTERM to its process group; gunicorn finishes what it serves), remove the mark,
   start it again (the code on disk now: a new version), wait until it is live in the gateway again.

    python -m gateway.rolling CONF [PROGRAM ...]       (scripts/rolling-restart runs it with the stack's CONF)

Without PROGRAMs: every program of CONF's programs file that has a drain file and shares its upstream lists
with another live instance (an instance alone behind its host name is left out, with a message: restarting it
is a gap, so it has to be named). Caddy's admin API: FESTIVALS_GATEWAY_ADMIN. Every wait has a timeout."""

from __future__ import annotations

import json
import os
import sys
import time
import xmlrpc.client

import requests
from supervisor.xmlrpc import SupervisorTransport

from common.supervise import programs, socket_path
from gateway.caddy import GROUPS, CaddyAdmin
from gateway.settings import load_settings


class RollingError(RuntimeError):
    pass


def say(message: str) -> None:
    print(f"rolling-restart: {message}", flush=True)


class Gateway:
    """What Caddy balances over, and its requests in flight per upstream (admin API)."""

    def __init__(self, admin: str):
        self.caddy = CaddyAdmin(admin)

    def groups_of(self, address: str) -> dict[str, list[str]]:
        """The upstream lists that hold `address` (group -> every address in it)."""
        lists = {}
        for group in GROUPS:
            try:
                lists[group] = self.caddy.upstreams(group)
            except requests.RequestException:
                lists[group] = []
        return {group: dials for group, dials in lists.items() if address in dials}

    def status(self, address: str, field: str) -> int:
        """Caddy's count `field` of an upstream: `num_requests` in flight, or `fails` (its passive health check's
        recent failures: while it has one, Caddy sends it nothing)."""
        response = self.caddy.session.get(f"{self.caddy.base}/reverse_proxy/upstreams", timeout=self.caddy.timeout)
        response.raise_for_status()
        return sum(row.get(field, 0) for row in response.json() or [] if row.get("address") == address)

    def in_flight(self, address: str) -> int:
        return self.status(address, "num_requests")


def wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise RollingError(f"not within {seconds:.0f} s: {what}")


def restart(supervisor, gateway: Gateway, name: str, program: dict, beat_s: float) -> None:
    address, drain = program["address"], program["drain"]
    full = f"{program['group']}:{name}" if program.get("group") else name
    # the instances that take over must be ones Caddy sends requests to: one with a recent failed request (just
    # restarted itself, say) is passed over for a few seconds, and draining now would leave nothing to answer
    others = {dial for dials in gateway.groups_of(address).values() for dial in dials if dial != address}
    wait(lambda: not any(gateway.status(dial, "fails") for dial in others), 30, f"the instances beside {name} healthy")
    say(f"{name} ({address}): draining")
    with open(drain, "w"):
        pass
    try:
        # the next beat (one interval) says "not available", the registry pushes the upstreams at once
        wait(lambda: not gateway.groups_of(address), 2 * beat_s + 10, f"{name} out of the gateway's upstreams")
        wait(lambda: gateway.in_flight(address) == 0, 60, f"{name}'s requests in flight finished")
        say(f"{name}: out of the gateway, no request in flight; stopping")
        supervisor.stopProcess(full, True)
    finally:
        os.unlink(drain)
    say(f"{name}: starting")
    supervisor.startProcess(full, True)
    wait(lambda: bool(gateway.groups_of(address)), 2 * beat_s + 60, f"{name} live in the gateway again")
    say(f"{name}: live again")


def chosen(known: dict, gateway: Gateway, names: list[str]) -> list[str]:
    if names:
        unknown = [name for name in names if name not in known or not known[name].get("drain")]
        if unknown:
            raise RollingError(f"not an instance of this stack: {', '.join(unknown)} (known: {', '.join(known)})")
        return names
    picked = []
    for name, program in known.items():
        if not program.get("drain"):
            continue
        lists = gateway.groups_of(program["address"])
        if lists and all(len(dials) > 1 for dials in lists.values()):
            picked.append(name)
        else:
            say(f"{name} left out: no other live instance serves its host names (name it to restart it anyway)")
    return picked


def main(args: list[str]) -> int:
    if not args or args[0].startswith("-"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    conf, names = args[0], args[1:]
    try:
        with open(programs(conf)) as file:
            known = json.load(file)
    except OSError as exc:
        print(f"rolling-restart: no stack's supervisor config at {conf}: {exc}", file=sys.stderr)
        return 1
    settings = load_settings()
    gateway = Gateway(settings.admin)
    supervisor = xmlrpc.client.ServerProxy(
        "http://127.0.0.1", transport=SupervisorTransport(None, None, f"unix://{socket_path(conf)}")
    ).supervisor
    try:
        for name in chosen(known, gateway, names):
            restart(supervisor, gateway, name, known[name], settings.heartbeat_s)
    except (RollingError, OSError, requests.RequestException, xmlrpc.client.Fault) as exc:
        print(f"rolling-restart: ERROR: {exc}", file=sys.stderr)
        return 1
    say("done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
