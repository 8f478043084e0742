"""Benchmark: sandbox generation time, throughput and memory per scale, next to the generator of a
baseline revision, and a one-day `sandbox advance` at each scale.

    uv run python development/bench/bench_sandbox.py [--scales 1 10]
        [--baseline REF] [--baseline-scales 1] [--candidate REF] [--days 365] [--seed 42]

Each phase runs in its own process (its peak RSS and CPU time are its own). Per scale it prints the
generation's wall and CPU seconds, peak memory, rows and rows per second, then `advance --to` the next
day; with `--baseline REF`, the generator of the sandbox brick as it was at git REF generates the same
window in the same run (at `--baseline-scales`, default the smallest scale: an older generator may take
many minutes at scale 10). Then the ratio between the largest and the smallest scale (time against
data: linear means the time ratio stays at or below the data ratio, target at most 11x for 10x) and
the target at scale 10: at most 5 minutes on 2 cores. Figures are printed, never asserted; on a
shared machine compare the CPU seconds and the ratios of one run, not wall times across runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
from pathlib import Path

from sandbox_setup import extract_brick, run_phase

BRICK = "components/data_gcp/sandbox"
START = dt.date(2025, 12, 1)  # a fixed window: every run and every revision simulates the same days
GENERATE = (
    "import datetime as dt; from data_gcp.sandbox import generate; "
    "r = generate({scale}, {seed}, {url!r}, dt.date.fromisoformat({start!r}), {days}); "
    "rows = sum(r.counts.values())"
)
ADVANCE = (
    "import datetime as dt; from data_gcp.sandbox import advance; "
    "r = advance(database_url={url!r}, to=dt.date.fromisoformat({day!r})); "
    "assert r.simulated_days == 1, r; rows = 0"
)


def line(label: str, r: dict) -> str:
    rate = r["rows"] / r["seconds"] if r["rows"] else 0
    rows = f"{r['rows']:>12,} rows {rate:>10,.0f} rows/s" if r["rows"] else ""
    return (
        f"{label:<34} {r['seconds']:8.1f} s  cpu {r['cpu_s']:8.1f} s  peak {r['peak_mib']:7.0f} MiB  {rows}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", type=float, default=[1.0, 10.0])
    parser.add_argument("--baseline", metavar="REF", help="also generate with the sandbox brick at git REF")
    parser.add_argument(
        "--baseline-scales", nargs="+", type=float, help="scales of the baseline (default: smallest)"
    )
    parser.add_argument(
        "--candidate", metavar="REF", help="time the sandbox brick at git REF (default: the working tree)"
    )
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, help="where the sandboxes go (default: a temporary folder)")
    args = parser.parse_args()
    base_scales = set(args.baseline_scales or [min(args.scales)]) if args.baseline else set()
    end = START + dt.timedelta(days=args.days - 1)
    print(f"window {START} to {end} ({args.days} days), seed {args.seed}, {os.cpu_count()} cores", flush=True)
    results: dict[float, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_sandbox_", dir=args.data_dir) as tmp:
        old = extract_brick(args.baseline, BRICK, Path(tmp) / "baseline_code") if args.baseline else None
        new = extract_brick(args.candidate, BRICK, Path(tmp) / "candidate_code") if args.candidate else None
        for scale in args.scales:
            results[scale] = {}
            folder = Path(tmp) / f"scale_{scale:g}"
            env = {**os.environ, "DATA_GCP_ENV": "local", "DATA_GCP_DATA_DIR": str(folder)}
            url = f"sqlite:///{folder / 'app.sqlite'}"
            fill = {"scale": scale, "seed": args.seed, "start": START.isoformat(), "days": args.days}
            if scale in base_scales:
                base_url = f"sqlite:///{folder / 'baseline.sqlite'}"
                r = run_phase(GENERATE.format(url=base_url, **fill), env, old)
                results[scale]["baseline"] = r
                print(line(f"scale {scale:g} generate @{args.baseline}", r), flush=True)
                (folder / "baseline.sqlite").unlink()
            r = run_phase(GENERATE.format(url=url, **fill), env, new)
            results[scale]["generate"] = r
            print(line(f"scale {scale:g} generate", r), flush=True)
            day = (end + dt.timedelta(days=1)).isoformat()
            r = run_phase(ADVANCE.format(url=url, day=day), env, new)
            results[scale]["advance"] = r
            print(line(f"scale {scale:g} advance --to {day}", r), flush=True)
            (folder / "app.sqlite").unlink()
    print()
    for scale in sorted(base_scales):
        a, b = results[scale]["baseline"], results[scale]["generate"]
        print(
            f"scale {scale:g}: generation @{args.baseline} / now: wall x{a['seconds'] / b['seconds']:.2f}  "
            f"cpu x{a['cpu_s'] / b['cpu_s']:.2f}  rows {a['rows']:,} / {b['rows']:,}"
        )
    if len(args.scales) > 1:
        lo, hi = min(args.scales), max(args.scales)
        a, b = results[lo]["generate"], results[hi]["generate"]
        print(
            f"generation scale {hi:g} / scale {lo:g}: wall x{b['seconds'] / a['seconds']:.2f}  "
            f"cpu x{b['cpu_s'] / a['cpu_s']:.2f}  data x{b['rows'] / a['rows']:.2f}  "
            f"peak memory x{b['peak_mib'] / a['peak_mib']:.2f}  (target: wall at most x{1.1 * hi / lo:.0f})"
        )
        if lo in base_scales and hi in base_scales:
            a, b = results[lo]["baseline"], results[hi]["baseline"]
            print(
                f"  @{args.baseline}: wall x{b['seconds'] / a['seconds']:.2f}  cpu x{b['cpu_s'] / a['cpu_s']:.2f}"
            )
    if 10.0 in results:
        s = results[10.0]["generate"]["seconds"]
        print(f"generation at scale 10: {s:.0f} s (target: at most 300 s on 2 cores)")


if __name__ == "__main__":
    main()
