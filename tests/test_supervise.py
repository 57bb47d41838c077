"""scripts/stack's supervisord config (common/supervise.py): what supervisor reads back is what was written."""

from __future__ import annotations

import json
import shlex

import pytest
from supervisor.options import ServerOptions

from common import supervise


def read_back(conf: str) -> dict:
    options = ServerOptions()
    options.realize(args=["-c", conf])
    return {program.name: program for group in options.process_group_configs for program in group.process_configs}


def test_supervise_config_reads_back_values_with_spaces_percent_quotes_and_commas(tmp_path):
    conf = str(tmp_path / "supervisor" / "supervisord.conf")
    supervise.init(conf)
    env = {
        "FESTIVALS_PORTAL_ORIGIN": "https://festspiele-würzburg.example",
        "FESTIVALS_SERVICE_KEY": 'fa_1%2,3"x',
        "FESTIVALS_TLS_CERT": "/srv/Festivals Daten/pki/app.pem",
    }
    argv = ["/srv/venv/bin/gunicorn", "--bind", "127.0.0.1:5100", "--access-logformat", "%(r)s 100%", "wsgi:app"]
    supervise.add(conf, "app1", argv, env, "127.0.0.1:5100")
    supervise.add(conf, "caddy", ["caddy", "run"], {}, None)
    supervise.group(conf, "festivals", ["app1"])
    programs = read_back(conf)
    assert programs["app1"].command == shlex.join(argv)
    assert programs["app1"].environment == env
    assert programs["app1"].stopasgroup and programs["app1"].killasgroup and programs["app1"].autorestart
    with open(supervise.programs(conf)) as file:
        assert json.load(file)["app1"] == {"address": "127.0.0.1:5100", "group": "festivals", "drain": None}
    assert oct((tmp_path / "supervisor" / "supervisord.conf").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    ("value", "message"),
    [("a\nb", "line break"), ("""both ' and " quotes""", "both kinds of quotes"), ("x ;comment", "line break")],
)
def test_supervise_refuses_a_value_supervisor_could_not_read_back(tmp_path, value, message):
    conf = str(tmp_path / "supervisord.conf")
    supervise.init(conf)
    with pytest.raises(supervise.Unwritable, match=message):
        supervise.add(conf, "app1", ["gunicorn"], {"FESTIVALS_X": value}, None)
