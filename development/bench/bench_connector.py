"""Benchmark: the Brevo connector against its local server, vs just downloading and parsing the pages.

    uv run python development/bench/bench_connector.py [--records 200000] [--repeat 1]

Serves ~`records` transactional events for one day (native audience; the pro audience gets a tenth),
then measures in the same process, on the same warm server:
- baseline: httpx GET of every page the connector reads (same endpoints, offsets, limits) + json parse;
- connector extract: the connector's extraction (HTTP, parse, hash, aggregate to Arrow), no load;
- connector run: `run_connector` end to end (extract + dlt load into a temporary DuckDB file),
  after one untimed warm-up run (dlt's import, ~3 s, is printed apart).
Prints records/s and the ratio to the baseline (target: run <= 2x). CPU timings on a shared machine are
noisy: compare the ratio, measured in the same run, not the absolute figures.
"""

from __future__ import annotations

import argparse
import os
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000, help="events served (native + pro)")
    parser.add_argument("--repeat", type=int, default=1, help="timed repetitions (best kept)")
    args = parser.parse_args()

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


if __name__ == "__main__":
    main()
