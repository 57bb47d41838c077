"""deploy/: the systemd units of each service, checked by `systemd-analyze verify` (Debian's systemd package,
installed by scripts/test; it checks the files and the programs they name, it starts nothing) and by what
every unit must say."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from app import ROOT

DEPLOY = Path(ROOT) / "deploy"
UNITS = sorted(DEPLOY.glob("*.service"))


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys keep their case
    parser.read_string(path.read_text().replace("\\\n", " "))
    return parser


@pytest.mark.processes
def test_deploy_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: scripts/test installs Debian's systemd package (scripts/setup systemd)"
    assert UNITS, "no units in deploy/"
    checked = []
    for path in UNITS:
        # the checkout stands in for /opt/festivals (the programs must exist); a template gets an instance
        name = path.name.replace("@.service", "@5100.service")
        (tmp_path / name).write_text(path.read_text().replace("/opt/festivals", str(ROOT)))
        checked.append(str(tmp_path / name))
    done = subprocess.run([analyze, "verify", *checked], capture_output=True, text=True, timeout=120)
    # any line is a finding (an unknown key or a bad value is only a warning, with status 0)
    assert (done.returncode, done.stdout + done.stderr) == (0, ""), done.stdout + done.stderr


@pytest.mark.parametrize("path", UNITS, ids=[path.name for path in UNITS])
def test_deploy_unit_runs_confined_as_its_own_user_and_restarts_on_failure(path):
    service = unit(path)["Service"]
    assert service["User"] == "festivals" and service["Group"] == "festivals"
    assert service["Restart"] == "on-failure"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert "/var/lib/festivals" in service["ReadWritePaths"].split()  # the instance folder
    assert service["KillMode"] == "control-group"  # a stop ends every process of the service


def test_deploy_file_server_may_write_its_media_folder():
    assert "-/srv/festivals-media" in unit(DEPLOY / "festivals-files.service")["Service"]["ReadWritePaths"].split()
