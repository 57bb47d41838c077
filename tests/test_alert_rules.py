"""monitoring/alerts.rules.yml: valid for Prometheus (promtool, Debian package `prometheus`), each alert fires
on the series our services export and stays quiet otherwise (health checks answering 503 are no error rate),
and every metric it names is one we export."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from app import ROOT

RULES = f"{ROOT}/monitoring/alerts.rules.yml"

UNIT_TESTS = """
rule_files: [RULES]
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      - series: 'festivals_database_up{job="app", instance="app-1:5000"}'
        values: '1 1 0 0 0 0 0'
      - series: 'festivals_database_up{job="app", instance="app-2:5000"}'
        values: '1 1 1 1 1 1 1'
      - series: 'festivals_registry_instances{job="registry", instance="gw:8090", service="app", state="live"}'
        values: '2 2 0 0 0 0 0'
      - series: 'festivals_registry_instances{job="registry", instance="gw:8090", service="files", state="live"}'
        values: '1 1 1 1 1 1 1'
      - series: 'festivals_certificate_days_left{job="files", instance="files-1:5001", name="files"}'
        values: '12x300'
      - series: 'festivals_certificate_days_left{job="files", instance="files-1:5001", name="ca"}'
        values: '3000x300'
    alert_rule_test:
      - eval_time: 1m30s
        alertname: FestivalsDatabaseDown
        exp_alerts:
          - exp_labels: {severity: critical, job: app, instance: "app-1:5000"}
            exp_annotations: {summary: "The database does not answer app-1:5000 (app)"}
      - eval_time: 15s
        alertname: FestivalsDatabaseDown
        exp_alerts: []
      - eval_time: 1m30s
        alertname: FestivalsNoLiveInstance
        exp_alerts:
          - exp_labels: {severity: critical, service: app}
            exp_annotations: {summary: "No live instance of app: the gateway answers 503 for it"}
      - eval_time: 75m
        alertname: FestivalsCertificateExpiring
        exp_alerts:
          - exp_labels: {severity: warning, job: files, instance: "files-1:5001", name: files}
            exp_annotations:
              summary: "Certificate files expires in 12 days; renew it with `flask --app wsgi pki issue files`"
  - interval: 1m
    input_series:
      - series: 'festivals_http_requests_total{job="app", instance="a:1", route="/api/v1/festivals", status="200"}'
        values: '0+100x20'
      - series: 'festivals_http_requests_total{job="app", instance="a:1", route="/api/v1/festivals", status="503"}'
        values: '0+0x5 0+20x15'
      - series: 'festivals_http_requests_total{job="files", instance="f:1", route="/upload", status="500"}'
        values: '0+1x20'
      - series: 'festivals_http_requests_total{job="files", instance="f:1", route="/upload", status="201"}'
        values: '0+100x20'
      - series: 'festivals_http_requests_total{job="files", instance="f:1", route="/ready", status="503"}'
        values: '0+60x20'
    alert_rule_test:
      - eval_time: 5m
        alertname: FestivalsHighErrorRate
        exp_alerts: []
      - eval_time: 18m
        alertname: FestivalsHighErrorRate
        exp_alerts:
          - exp_labels: {severity: warning, job: app}
            exp_annotations: {summary: "app: 16.67% of answers are 5xx"}
"""


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is not installed (Debian package prometheus: scripts/setup prometheus)")
    return found


@pytest.mark.processes
def test_alert_rules_pass_promtool_check():
    result = subprocess.run([promtool(), "check", "rules", RULES], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.processes
def test_alert_rules_fire_on_outages_and_stay_quiet_otherwise(tmp_path):
    tests = tmp_path / "alerts.test.yml"
    tests.write_text(UNIT_TESTS.replace("RULES", RULES))
    result = subprocess.run([promtool(), "test", "rules", str(tests)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_metric_of_the_rules_is_exported(client):
    assert client.get("/ready").status_code == 200
    exported = client.get("/metrics").get_data(as_text=True)
    with open(RULES) as rules:
        named = set(re.findall(r"\b(festivals_[a-z_]+)", rules.read()))
    assert named == {
        "festivals_database_up",
        "festivals_registry_instances",
        "festivals_http_requests_total",
        "festivals_certificate_days_left",
    }
    missing = [name for name in named if f"# TYPE {name} " not in exported]
    assert missing == []
    assert "festivals_database_up 1.0" in exported
