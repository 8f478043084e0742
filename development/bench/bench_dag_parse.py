"""Benchmark: how long parsing each DAG file of `orchestration/dags` takes.

Run: `uv run python development/bench/bench_dag_parse.py [--repeat N]`

Targets (printed, not asserted): all DAG files under 2 s, each under 0.3 s. Two figures per file:
- cold: the first parse in a fresh interpreter that has already imported `airflow.sdk` (it pays the
  imports of Cosmos, our components and the dbt manifest): what a new DAG-processor process pays once;
- warm: the median of the next `--repeat` parses in that same process (imports cached): the steady
  state of the DAG processor, which re-parses every file every few minutes.
The cost of `import airflow.sdk` in a fresh interpreter is printed as the baseline of the same run, so
figures from a loaded machine can be compared as ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "orchestration" / "dags"
TARGET_ALL_S = 2.0
TARGET_EACH_S = 0.3

_CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
import airflow.sdk  # noqa: F401
from airflow.dag_processing.dagbag import DagBag
import_s = time.perf_counter() - t0
path, repeat = sys.argv[1], int(sys.argv[2])
times, dags, errors = [], 0, 0
for _ in range(repeat + 1):
    s = time.perf_counter()
    bag = DagBag(dag_folder=path, safe_mode=False)
    times.append(time.perf_counter() - s)
    dags, errors = len(bag.dags), len(bag.import_errors)
print("RESULT" + json.dumps({"import_s": import_s, "times": times, "dags": dags, "errors": errors}))
"""


def _parse(path: Path, repeat: int, home: str) -> dict:
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=home,
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db",
        DATA_GCP_ENV="local",
    )
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), str(repeat)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT"))
    return json.loads(line.removeprefix("RESULT"))


def main() -> None:
    parser = argparse.ArgumentParser(description="DAG parse-time benchmark")
    parser.add_argument("--repeat", type=int, default=5, help="warm parses per file")
    args = parser.parse_args()
    files = sorted(p for p in DAGS.glob("*.py") if not p.name.startswith("_"))
    rows = []
    with tempfile.TemporaryDirectory() as home:
        for path in files:
            rows.append((path.name, _parse(path, args.repeat, home)))
    baseline = statistics.median(r["import_s"] for _, r in rows)
    print(f"DAG files: {len(files)} in {DAGS}")
    print(f"baseline: `import airflow.sdk` in a fresh interpreter: {baseline:.2f} s (median of {len(rows)})")
    print(f"{'file':34} {'dags':>4} {'errors':>6} {'cold s':>7} {'warm s':>7} {'warm/0.3s':>9}")
    total_cold = total_warm = 0.0
    for name, r in rows:
        cold, warm = r["times"][0], statistics.median(r["times"][1:])
        total_cold += cold
        total_warm += warm
        print(
            f"{name:34} {r['dags']:>4} {r['errors']:>6} {cold:>7.2f} {warm:>7.3f} {warm / TARGET_EACH_S:>8.2f}x"
        )
    print(
        f"all files: warm {total_warm:.2f} s (target {TARGET_ALL_S} s -> {total_warm / TARGET_ALL_S:.2f}x), "
        f"cold {total_cold:.2f} s ({total_cold / baseline:.2f}x the airflow import baseline)"
    )


if __name__ == "__main__":
    main()
