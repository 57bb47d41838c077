"""bench/api_bench.py is not part of the suite; this only checks that its one command still runs end to end
with tiny numbers (a real process: gunicorn, the Flask constant app, Caddy and wrk) and prints every table."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.api_bench import SQLITE_READS, selected_reads
from tests.conftest import USE_POSTGRES, create_postgres_database, worker_database_name

pytestmark = pytest.mark.processes  # every test starts a process itself

ROOT = Path(__file__).resolve().parent.parent


def test_api_bench_runs_with_tiny_numbers(tmp_path):
    command = [
        sys.executable,
        str(ROOT / "bench" / "api_bench.py"),
        "--festivals=1",
        "--events=20",
        "--duration=2s",
        "--sustained=1s",
        "--rounds=2",
        "--connections=2",
        "--threads=1",
        "--workers=1",
        "--port=20340",
        "--import-rows=40",
        f"--out={tmp_path}",
    ]
    if USE_POSTGRES:
        url = create_postgres_database(worker_database_name("bench"))
        command += [f"--pg-url={url}", "--pg-sizes=40,80", "--pg-names=words,realistic", "--pg-duration=1s"]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for label in ("300 events", "one festival"):
        row = next(line for line in run.stdout.splitlines() if line.startswith(f"| {label}"))
        assert "failed" not in row and len(re.findall(r"\d+%", row)) == 4, row  # Caddy, uncached, cached, 304
    targets = run.stdout.split("Targets (issue 24)")[1].splitlines()
    for label in ("300 events", "one festival", "`schedule.json`", "`schedule.ics`", "`schedule.xml`", "`events.csv`"):
        rows = [line for line in targets if line.startswith(f"| {label}")]
        assert len(rows) == (3 if label[0] != "`" else 2), rows  # uncached, cached (and sustained)
        assert all(re.search(r"\| (yes|no[^|]*) \|$", row) for row in rows), rows  # each says whether it is met
    [csv_import] = [line for line in run.stdout.splitlines() if line.startswith("| portal, one transaction | 40 |")]
    assert re.search(r"\| < 2 s \| (yes|no) \|$", csv_import), csv_import
    if USE_POSTGRES:
        rows = [line for line in run.stdout.splitlines() if line.startswith("| `/")]
        assert len(rows) == 12 and not any("errors" in row or "failed" in row for row in rows), rows  # 3 reads × 4
        assert "EXPLAIN ANALYZE" in run.stdout
    assert list(tmp_path.glob("api-bench-*.md"))


def test_video_bench_runs_with_tiny_numbers():
    """bench/video_bench.py end to end with a 2 MB video (Caddy, the file server, wrk): every row is printed."""
    command = [
        sys.executable,
        str(ROOT / "bench" / "video_bench.py"),
        "--size-mb=2",
        "--duration=1s",
        "--rounds=1",
        "--connections=2",
        "--threads=1",
    ]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for label in ("upload of", "first poster", "warm poster, one request", "1 MiB Range read through the gateway"):
        assert any(line.startswith(f"| {label}") for line in run.stdout.splitlines()), run.stdout


def test_only_selects_the_reads_whose_path_holds_a_word():
    assert selected_reads("") == SQLITE_READS
    assert [read.path.rsplit("/", 1)[1] for read in selected_reads("schedule,csv")] == [
        "schedule.json",
        "schedule.ics",
        "schedule.xml",
        "events.csv",
    ]
    assert selected_reads("nothing") == []
