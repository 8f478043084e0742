"""Benchmark: the three internal jobs (backend referentials, seed files, Metabase governance), each
`run_connector` end to end against its local stand-in, next to a bare baseline measured in the same run.

    uv run python development/bench/bench_internal_jobs.py [--repeat 3]

Baselines: referentials = one httpx GET of /native/v1/subcategories/v2 + JSON parse; seed files =
reading the four files from the local bucket; Metabase = the read calls (session, cards, collections,
dashboards, tables) with httpx. The jobs add validation, planning, lineage parsing and the dlt load
(Metabase: a dry run, as `data-gcp run` does, so nothing is loaded). dlt's first import (~3-5 s) is
paid by an untimed warm-up run. Figures are medians; on a shared machine compare the columns of one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import httpx


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["DATA_GCP_ENV"] = "local"
    os.environ["DATA_GCP_DATA_DIR"] = tempfile.mkdtemp(prefix="bench_internal_")
    from data_gcp.config import get_settings
    from data_gcp.etl_core import run_connector
    from data_gcp.sandbox import write_seed_files
    from data_gcp.storage import get_storage
    from data_gcp.vendor_servers import fake_data, start_all
    from data_gcp.vendor_servers.metabase import LOCAL_PASSWORD, LOCAL_USER

    settings = get_settings()
    write_seed_files(settings)
    with start_all(
        ["api_referentials", "metabase"], settings=settings, data=fake_data(), apply_env=True
    ) as running:
        backend, metabase = running.urls["api_referentials"], running.urls["metabase"]
        run_connector("api_referentials", settings=settings)  # warm-up: dlt import

        def referentials_baseline() -> None:
            httpx.get(f"{backend}/native/v1/subcategories/v2").json()

        def seeds_baseline() -> None:
            storage = get_storage(settings, bucket="de-bigquery-data-import-local")
            for obj in storage.list("bigquery_imports/seed/"):
                storage.get_bytes(obj.key)

        def metabase_baseline() -> None:
            with httpx.Client(base_url=metabase + "/") as client:
                token = client.post(
                    "api/session", json={"username": LOCAL_USER, "password": LOCAL_PASSWORD}
                ).json()["id"]
                headers = {"X-Metabase-Session": token}
                for path in ("api/card", "api/collection", "api/table"):
                    client.get(path, headers=headers).json()
                for dash in client.get("api/dashboard", headers=headers).json():
                    client.get(f"api/dashboard/{dash['id']}", headers=headers).json()

        rows = [
            (
                "api_referentials",
                referentials_baseline,
                lambda: run_connector("api_referentials", settings=settings),
            ),
            ("seed_files", seeds_baseline, lambda: run_connector("seed_files", settings=settings)),
            (
                "metabase (dry run)",
                metabase_baseline,
                lambda: run_connector("metabase", settings=settings, dry_run=True),
            ),
        ]
        print(f"{'job':<20} {'baseline s':>11} {'job run s':>10} {'ratio':>7}")
        for name, base, job in rows:
            b, j = _median(base, args.repeat), _median(job, args.repeat)
            print(f"{name:<20} {b:>11.3f} {j:>10.3f} {j / b:>7.1f}")


if __name__ == "__main__":
    main()
