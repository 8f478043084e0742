"""End to end: `data-gcp run` (the default sandbox scale) on an empty data folder fills every mart through Airflow,
with the network cut; a failing task makes the run exit non-zero, naming the task and its log.

The network cut: the run is in a network namespace of its own holding only a loopback interface
(`unshare -rn`, where the kernel lets an unprivileged user create one), and in any case an audit hook
refuses and records every connection or name lookup to a host other than this machine. Refusal alone
would not show a library that swallows its failed call (telemetry does), so the record must be empty.

(A second run of the same day gives the same rows: `test/components/data_gcp/applicative_import`.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from data_gcp.config import get_settings
from data_gcp.warehouse import get_warehouse

CLI = Path(sys.executable).parent / "data-gcp"


# Runs the CLI after installing an audit hook that refuses, and records in $NETGUARD_LOG, any socket
# connection or name lookup to a host other than this machine.
GUARD = r"""
import ipaddress, os, socket, sys
LOG = os.environ["NETGUARD_LOG"]
LOCAL = {"localhost", socket.gethostname(), ""}

def local(host):
    if isinstance(host, bytes):
        host = host.decode()
    if host is None or host in LOCAL:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False

def hook(event, args):
    if event == "socket.connect":
        sock, address = args
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not local(address[0]):
            with open(LOG, "a") as fh:
                fh.write(f"connect {address!r}\n")
            raise OSError(101, f"network cut: connection to {address!r}")
    elif event == "socket.getaddrinfo":
        if not local(args[0]):
            with open(LOG, "a") as fh:
                fh.write(f"lookup {args[0]!r}\n")
            raise socket.gaierror(socket.EAI_NONAME, f"network cut: lookup of {args[0]!r}")

sys.addaudithook(hook)
from data_gcp.cli.main import main
sys.argv[0] = "data-gcp"
main()
"""


def _own_network_namespace() -> list[str]:
    """`unshare -rn` with the loopback up, where this kernel allows it; else nothing (the hook stays)."""
    probe = ["unshare", "-rn", "sh", "-c", "ip link set lo up"]
    try:
        ok = subprocess.run(probe, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return ["unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"] if ok else []


def _run(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DBT_"))}
    for key in ("DO_NOT_TRACK", "SCARF_NO_ANALYTICS", "HF_HUB_DISABLE_TELEMETRY", "MLFLOW_DISABLE_TELEMETRY"):
        env.pop(key, None)  # the run must switch telemetry off itself
    env.update(DATA_GCP_ENV="local", DATA_GCP_DATA_DIR=str(data_dir), COLUMNS="200")
    env["NETGUARD_LOG"] = str(data_dir.parent / "outbound.log")
    argv = [*_own_network_namespace(), sys.executable, "-c", GUARD, "run", *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)


def _outbound(data_dir: Path) -> list[str]:
    log = data_dir.parent / "outbound.log"
    return log.read_text().splitlines() if log.is_file() else []


def _counts(settings) -> dict[str, int]:  # noqa: ANN001
    wh = get_warehouse(settings)
    tables = [f"{d}.{t}" for d in ("raw", "analytics", "ml") for t in wh.list_tables(d)]
    return {t: wh.row_count(t) for t in tables}


@pytest.mark.slow
def test_data_gcp_run_fills_the_marts(isolated_env):
    settings = get_settings()
    # a laptop without PostgreSQL (nothing listens on port 9): the recommendation export skips, the
    # chain still succeeds; ClickHouse is embedded, it runs everywhere
    os.environ["DATA_GCP_RECO_DATABASE_URL"] = "postgresql://postgres@127.0.0.1:9/test"
    try:
        first = _run(isolated_env, "--date", "2026-11-20")  # the default scale: every mart has rows there
    finally:
        os.environ.pop("DATA_GCP_RECO_DATABASE_URL", None)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "succeeded, 0 failed" in first.stdout
    assert _outbound(isolated_env) == [], "calls to hosts other than this machine"
    assert "warehouse rows per layer" in first.stdout and "data-gcp sql" in first.stdout
    assert (isolated_env / "airflow" / "airflow.db").is_file()  # Airflow's home is under the data folder
    counts = _counts(settings)
    marts = {t: n for t, n in counts.items() if t.startswith("analytics.")}
    assert marts and all(n > 0 for n in marts.values()), marts
    assert counts.get("analytics.mrt_global__booking", 0) > 0
    assert counts.get("raw.applicative_database_booking", 0) > 0
    assert all(n > 0 for t, n in counts.items() if t.startswith("ml.ml_reco__")), counts
    progress = first.stdout + first.stderr  # each task's line as it finishes (stderr), then the summary
    for task in ("dbt_exports > export_ministry", "export_clickhouse > export_clickhouse"):
        assert f"ok {task}" in progress, task
    assert "ok export_reco_cloudsql > export_reco_cloudsql" in progress
    reco_log = next((isolated_env / "airflow" / "logs" / "data-gcp-run").rglob("export_reco_cloudsql/*.log"))
    assert "skipped: cannot connect to the recommendation database" in reco_log.read_text()
    assert (isolated_env / "clickhouse").is_dir()  # the embedded ClickHouse's data, in the data folder


def test_a_failing_task_fails_the_run_and_points_to_its_log(isolated_env, tmp_path):
    """A broken source (not a SQLite database) makes the import task fail: exit 1, task and log named."""
    source = tmp_path / "broken.sqlite"
    source.write_text("this is not a database")
    env_extra = {"DATA_GCP_SOURCE_DATABASE_URL": f"sqlite:///{source}"}
    os.environ.update(env_extra)
    try:
        result = _run(isolated_env, "--date", "2026-11-20")
    finally:
        for key in env_extra:
            os.environ.pop(key, None)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert "failed: import_applicative_database > import_applicative" in result.stdout
    log_line = next(line for line in result.stdout.splitlines() if line.strip().startswith("log:"))
    log_path = Path(log_line.split("log:", 1)[1].strip())
    assert log_path.is_file() and "import_applicative" in str(log_path)
