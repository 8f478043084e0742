"""`dbt build --target ci` time on the sandbox at scale 0.1 and 1 (target: under 60 s at scale 1 on 2 cores).

Run: `uv run python development/bench/bench_dbt.py [--scales 0.1 1] [--seed 42]`.
For each scale, in a fresh temporary data folder: `data-gcp sandbox generate --scale S`, then
`data-gcp import applicative` and every connector against the fake vendor servers ("import" below),
then `dbt build` in this process (parse excluded, measured apart: it
does not depend on the data). Prints raw row counts and the build time per scale, and the ratio to the
smallest scale's build measured in the same run (a 2-core shared machine is noisy: read the ratios),
the 1-minute load average around each build, and what the project holds (models, data tests per layer).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from data_gcp.config import Settings, reset_settings, workspace_root


def _connectors(env: dict[str, str], settings: Settings) -> float:
    """Every connector and internal job (the sandbox's seed files, the fake vendor servers on loopback),
    as `data-gcp run` does, so that every source the project reads exists; returns the seconds."""
    from data_gcp.etl_core import list_connectors
    from data_gcp.sandbox import write_seed_files
    from data_gcp.vendor_servers import start_all

    start = time.perf_counter()
    write_seed_files(settings, only_missing=True)
    with start_all(settings=settings) as running:
        for connector in list_connectors():
            _cli(["etl", "run", connector.name], {**env, **running.env})
    return time.perf_counter() - start


def _cli(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        ["data-gcp", *args],
        cwd=workspace_root(), env=env, check=False, capture_output=True, text=True,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"data-gcp {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def _raw_rows(settings: Settings) -> dict[str, int]:
    from data_gcp.warehouse import get_warehouse

    wh = get_warehouse(settings)
    return {t: wh.row_count(f"raw.{t}") for t in wh.list_tables("raw")}


def _print_slowest(build: object, top: int) -> None:
    """The `top` slowest nodes of a build (dbt's own per-node execution time; threads overlap them)."""
    results = getattr(getattr(build, "raw", None), "results", None) or []
    timed = sorted(
        (
            (r.execution_time or 0.0, r.node.resource_type, r.node.name)
            for r in results
            if getattr(r, "node", None)
        ),
        reverse=True,
    )
    if top and timed:
        print(
            f"\nslowest {min(top, len(timed))} of {len(timed)} nodes (sum of all nodes {sum(t for t, _, _ in timed):.1f}s):"
        )
        for secs, kind, name in timed[:top]:
            print(f"  {secs:6.2f}s  {kind:<9} {name}")


def _node_counts(manifest: Path) -> str:
    """Models, snapshots, unit tests and data tests (per layer: the prefix of the model they test)."""
    nodes = json.loads(manifest.read_text())
    kinds: dict[str, int] = {}
    layers: dict[str, int] = {}
    for node in nodes["nodes"].values():
        kinds[node["resource_type"]] = kinds.get(node["resource_type"], 0) + 1
        if node["resource_type"] == "test":
            attached = (node.get("attached_node") or "").rsplit(".", 1)[-1]
            layer = attached.split("__")[0] if attached else "singular"
            layers[layer] = layers.get(layer, 0) + 1
    per_layer = ", ".join(f"{k}={v}" for k, v in sorted(layers.items(), key=lambda kv: -kv[1]))
    return (
        f"{kinds.get('model', 0)} models, {kinds.get('snapshot', 0)} snapshots, "
        f"{len(nodes.get('unit_tests', {}))} unit tests, {kinds.get('test', 0)} data tests ({per_layer})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", nargs="+", type=float, default=[0.1, 1.0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=None, help="dbt threads (default: profile's, 4)")
    parser.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="keep each scale's data under DATA_ROOT/scale_<S> (default: a temporary folder)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="with --data-root: skip generate+import where raw data exists"
    )
    parser.add_argument("--top", type=int, default=10, help="print the N slowest nodes of each build")
    args = parser.parse_args()

    from data_gcp import dbt_runner

    builds: dict[float, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench_dbt_") as tmp:
        target_path = Path(tmp) / "target"
        for scale in args.scales:
            data_dir = (args.data_root or Path(tmp)) / f"scale_{scale}"
            env = {**os.environ, "DATA_GCP_ENV": "local", "DATA_GCP_DATA_DIR": str(data_dir)}
            if args.threads:
                env["DBT_THREADS"] = str(args.threads)
            # this process's settings too: the fake servers write the Play exports to its bucket
            os.environ.update({k: env[k] for k in ("DATA_GCP_ENV", "DATA_GCP_DATA_DIR")})
            reset_settings()
            if args.reuse and (data_dir / "warehouse.duckdb").is_file():
                gen_s = imp_s = 0.0
            else:
                gen_s = _cli(["sandbox", "generate", "--scale", str(scale), "--seed", str(args.seed)], env)
                imp_s = _cli(["import", "applicative"], env)
                imp_s += _connectors(env, Settings(env="local", data_dir=data_dir))
            os.environ.update({k: env[k] for k in ("DATA_GCP_ENV", "DATA_GCP_DATA_DIR")})
            if args.threads:
                os.environ["DBT_THREADS"] = str(args.threads)
            reset_settings()
            settings = Settings(env="local", data_dir=data_dir)
            rows = _raw_rows(settings)
            parse = dbt_runner.parse(target="ci", settings=settings, target_path=target_path)
            if scale == args.scales[0]:
                print(f"project: {_node_counts(target_path / 'manifest.json')}")
            load_before = os.getloadavg()[0]
            cpu_before = time.process_time()
            build = dbt_runner.build(target="ci", settings=settings, target_path=target_path)
            cpu_s = time.process_time() - cpu_before
            load_after = os.getloadavg()[0]
            builds[scale] = build.elapsed_s
            _print_slowest(build, args.top)
            big = ", ".join(
                f"{t.removeprefix('applicative_database_')}={n}" for t, n in sorted(rows.items()) if n >= 1000
            )
            print(
                f"\nscale {scale}: generate {gen_s:.1f}s, import {imp_s:.1f}s, raw rows {sum(rows.values())} ({big})"
            )
            print(
                f"scale {scale}: dbt parse {parse.elapsed_s:.1f}s, dbt build {build.elapsed_s:.1f}s -> {build.summary()}"
                f" (1-min load average {load_before:.2f} before, {load_after:.2f} after;"
                f" CPU {cpu_s:.1f}s in dbt and DuckDB threads: on a shared machine, wall time overstates)"
            )
    base = min(builds)
    print("\nscale   dbt build (s)   ratio to scale", base)
    for scale, secs in builds.items():
        print(f"{scale:<7} {secs:13.1f}   {secs / builds[base]:.2f}")
    if 1.0 in builds:
        print(
            f"target: dbt build at scale 1 under 60 s -> {'met' if builds[1.0] < 60 else 'NOT met'} ({builds[1.0]:.1f}s)"
        )


if __name__ == "__main__":
    main()
