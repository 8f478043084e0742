"""Benchmark: the Brevo connector against its local server, vs just downloading and parsing the pages.

    uv run python development/bench/bench_connector.py [--records 200000] [--repeat 1]
        [--memory-per-day 20000] [--memory-days 90]

Serves ~`records` transactional events for one day (native audience; the pro audience gets a tenth),
then measures in the same process, on the same warm server:
- baseline: httpx GET of every page the connector reads (same endpoints, offsets, limits) + json parse;
- connector extract: the connector's extraction (HTTP, parse, hash, aggregate to Arrow), no load;
- connector run: `run_connector` end to end (extract + dlt load into a temporary DuckDB file),
  after one untimed warm-up run (dlt's import, ~3 s, is printed apart).
Prints records/s and the ratio to the baseline (target: run <= 2x). CPU timings on a shared machine are
noisy: compare the ratio, measured in the same run, not the absolute figures.

Then memory: a 1-day and a `--memory-days` backfill at the same daily volume (`--memory-per-day`
events a day), each `run_connector` in a child process of its own (the server stays in this one), and
prints each child's peak RSS and their ratio (target: under 1.5: memory is bounded by a page and a
day, not by the window, since pages are aggregated a day at a time and spooled to files until the load).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import httpx


def baseline(url: str, day: str) -> int:
    """Download and parse exactly the pages the connector reads: report + 3 event types x pages."""
    from data_gcp.brevo.connector import EVENT_TYPES, EVENTS_LIMIT
    from data_gcp.vendor_servers.brevo import LOCAL_KEYS

    records = 0
    with httpx.Client(base_url=url + "/", timeout=120) as client:
        for key in LOCAL_KEYS:
            headers = {"api-key": key}
            params = {"startDate": day, "endDate": day}
            client.get("smtp/statistics/aggregatedReport", params=params, headers=headers).json()
            for event in EVENT_TYPES:
                offset = 0
                while True:
                    page = client.get(
                        "smtp/statistics/events",
                        params={
                            **params,
                            "event": event,
                            "sort": "asc",
                            "offset": offset,
                            "limit": EVENTS_LIMIT,
                        },
                        headers=headers,
                    ).json()["events"]
                    records += len(page)
                    offset += len(page)
                    if len(page) < EVENTS_LIMIT:
                        break
    return records


def child_run(start: str, end: str) -> None:
    """In a child process: one full run (extract + load), then its peak RSS as JSON on stdout."""
    from data_gcp.etl_core import run_connector

    t = time.perf_counter()
    result = run_connector("brevo", start, end, objects="transactional")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        json.dumps(
            {
                "peak_mib": peak_kib / 1024,
                "seconds": time.perf_counter() - t,
                "rows": result.rows["brevo_transactional"],
            }
        )
    )


def memory_ratio(per_day: int, days: int) -> None:
    """Peak RSS of a 1-day and a `days`-day backfill at the same daily volume, in child processes."""
    from data_gcp.vendor_servers import connector_harness

    end = dt.date(2026, 11, 20)
    start = end - dt.timedelta(days=days - 1)
    figures = {}
    with connector_harness(
        "brevo", timeout=120, events_per_day=per_day, campaigns={"native": 1, "pro": 1}
    ) as h:
        for label, first in (("1 day", end), (f"{days} days", start)):
            data_dir = tempfile.mkdtemp(prefix="bench_connector_mem_")
            env = {**os.environ, **h.server.env, "DATA_GCP_DATA_DIR": data_dir, "DATA_GCP_ENV": "local"}
            out = subprocess.run(
                [sys.executable, __file__, "--child-run", first.isoformat(), end.isoformat()],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode != 0:
                raise SystemExit(f"child run {label} failed:\n{out.stderr[-3000:]}")
            figures[label] = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"\nmemory: brevo transactional backfill, {per_day} events a day (native; pro a tenth), run in a child"
    )
    print(f"{'window':<12}{'peak RSS MiB':>14}{'seconds':>10}{'rows loaded':>13}")
    for label, f in figures.items():
        print(f"{label:<12}{f['peak_mib']:>14.0f}{f['seconds']:>10.1f}{f['rows']:>13,}")
    ratio = figures[f"{days} days"]["peak_mib"] / figures["1 day"]["peak_mib"]
    print(
        f"peak RSS {days} days / 1 day: {ratio:.2f} (target < 1.5): "
        + ("OK" if ratio < 1.5 else "ABOVE TARGET")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000, help="events served (native + pro)")
    parser.add_argument("--repeat", type=int, default=1, help="timed repetitions (best kept)")
    parser.add_argument("--memory-per-day", type=int, default=20_000, help="native events a day (memory)")
    parser.add_argument("--memory-days", type=int, default=90, help="backfill length compared with 1 day")
    parser.add_argument("--child-run", nargs=2, metavar=("START", "END"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_run:
        child_run(*args.child_run)
        return

    tmp = tempfile.mkdtemp(prefix="bench_connector_")
    os.environ["DATA_GCP_DATA_DIR"] = tmp
    os.environ["DATA_GCP_ENV"] = "local"
    from data_gcp.config import reset_settings
    from data_gcp.etl_core import extract_tables, run_connector
    from data_gcp.vendor_servers import connector_harness

    reset_settings()
    day = "2026-11-20"
    per_day = int(args.records / 1.1)
    with connector_harness(
        "brevo", timeout=120, events_per_day=per_day, campaigns={"native": 1, "pro": 1}
    ) as h:
        env = h.server.env
        os.environ.update(env)
        n = baseline(h.server.url, day)  # warm-up: the server generates and caches the day once
        t = time.perf_counter()
        run_connector("brevo", day, day, objects="transactional")  # warm-up: imports dlt, creates tables
        first_run = time.perf_counter() - t
        # fetched event types are delivered/opened/unsubscribed (~95% of the events served)
        best = {"baseline": float("inf"), "extract": float("inf"), "run": float("inf")}
        for _ in range(args.repeat):
            t = time.perf_counter()
            baseline(h.server.url, day)
            best["baseline"] = min(best["baseline"], time.perf_counter() - t)
            t = time.perf_counter()
            tables = extract_tables("brevo", day, day, objects="transactional")
            best["extract"] = min(best["extract"], time.perf_counter() - t)
            t = time.perf_counter()
            result = run_connector("brevo", day, day, objects="transactional")
            best["run"] = min(best["run"], time.perf_counter() - t)
        rows = tables["brevo_transactional"].num_rows
    print(
        f"brevo transactional, one day: {n} event records fetched, {rows} aggregated rows "
        f"({result.rows['brevo_transactional']} loaded)"
    )
    print(f"{'step':<36}{'seconds':>9}{'records/s':>12}{'x baseline':>12}")
    for label, key in (
        ("baseline: httpx download + json parse", "baseline"),
        ("connector extract (no load)", "extract"),
        ("connector run (extract + dlt load)", "run"),
    ):
        seconds = best[key]
        print(f"{label:<36}{seconds:>9.2f}{n / seconds:>12,.0f}{seconds / best['baseline']:>12.2f}")
    print(
        f"(first run in the process, with dlt's import and table creation: {first_run:.2f}s, "
        f"{first_run / best['baseline']:.2f}x)"
    )
    ratio = best["run"] / best["baseline"]
    print(
        f"overhead of the full run: {ratio:.2f}x the download+parse baseline (target <= 2x): "
        + ("OK" if ratio <= 2 else "ABOVE TARGET")
    )
    if args.memory_days > 0:
        memory_ratio(args.memory_per_day, args.memory_days)


if __name__ == "__main__":
    main()
