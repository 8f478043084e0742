"""Plant each catalogued fault in a copy of a built warehouse, run what dbt would run on it, and score
which faults the data tests catch and which data tests no fault makes fail.

Why batches: one `dbt run` + `dbt test` of what a raw table feeds takes 10 to 30 s on 2 cores; faults whose
expected tests differ are planted together in one copy, so the whole catalogue costs a few builds.
A fault counts as caught when every test it names fails in its batch. `isolated=True` plants each
fault alone (slower): the failing tests are then that fault's and nothing else's.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from data_gcp.config import DataGcpError, Settings
from data_gcp.dbt_faults.catalogue import CATALOGUE, CLASSES, Fault
from data_gcp.log import get_logger

log = get_logger(__name__)

WAREHOUSE_FILE = "warehouse.duckdb"
BASE_SCALE = 0.003  # ~300 users, ~1.6k bookings, ~15k events: every model gets rows

# Data tests that no catalogued fault makes fail, kept on purpose: (regular expression on the test's
# name, why). Matched only against the tests no fault made fail; each reason says what does break it.
CONNECTORS = "adage|addresses|appsflyer|app_downloads|batch|brevo|contentful|dms|qualtrics|siren|marketing"
KEPT_WITHOUT_FAULT: tuple[tuple[str, str], ...] = (
    (
        r"^assert_dehumanize_id_inverts_humanize_id$",
        "checks the humanize_id / dehumanize_id macros on every offer id: a code fault (a changed macro) "
        "breaks it, no data can",
    ),
    (
        r"^k_anonymous_export__",
        "measures k on the exports: the generalisation macro makes any data k-anonymous, so it fails when "
        "the macro or the exported columns change (the export refuses a table below k: "
        "test/components/data_gcp/exports)",
    ),
    (
        r"^assert_(educational_deposit_spent_equals|home_clicks_match|venue_monthly_revenue_adds_up|"
        r"deposit_spent_equals|user_diversification_score_is)",
        "reconciles two models built from the same rows by different paths: a model bug (a changed join "
        "or filter) breaks it, which a raw-layer fault does not reproduce",
    ),
    (
        rf"^(not_null|unique|relationships|accepted_values|unique_combination_of_columns|expression_is_true)_"
        rf"(int|mrt)_({CONNECTORS})",
        "on a vendor connector's models: vendor payload faults are planted by the connectors' own tests "
        "(test/components/data_gcp/<connector>, fake servers speaking the vendor's format), not by this "
        "catalogue of the app database",
    ),
    (
        r"^unique(_combination_of_columns)?_(mrt_pro__offerer_monthly_activity|int_applicative__educational_deposit|"
        r"int_firebase__session|mrt_diversification__monthly|mrt_global__daily_first_booking|mrt_global__item|"
        r"mrt_marketing__install_first_booking|mrt_native__daily_consultation_funnel|"
        r"mrt_native__daily_platform_activity|mrt_native__daily_search_funnel|mrt_native__first_booking_cohort)_",
        "the key of a model whose last step groups by it: unique by construction today; kept because every "
        "mart's key is tested (test_every_mart_has_a_tested_key), so that a change of the grain that "
        "duplicates keys fails",
    ),
    (
        r"^(not_null|unique|unique_combination_of_columns)_",
        "key or required column carried from the app database or the events: fails when that raw column "
        "gets a null or a duplicate; the catalogue plants those on the main tables (classes keys, orphans) "
        "and this is the same check on another table",
    ),
    (
        r"^relationships_",
        "a reference between two models: fails on an orphan upstream; the catalogue plants orphans on "
        "the main tables (class orphans) and this is the same check one table further",
    ),
    (
        r"^accepted_values_",
        "a value list on a column carried from the app database or the events: fails on a value the app "
        "does not have; the catalogue plants new values for the main enums (class statuses) and this is "
        "the same list on another table",
    ),
)


class FaultRunError(DataGcpError):
    """The catalogue could not run (no built warehouse, a fault's SQL failed, dbt did not start)."""


@dataclass(frozen=True)
class FaultResult:
    fault: Fault
    batch: int
    failed: tuple[str, ...]  # the tests (or sources) of `fault.expect` that failed
    missing: tuple[str, ...]  # those that did not

    @property
    def caught(self) -> bool:
        return not self.missing


@dataclass
class CatalogueReport:
    results: list[FaultResult]
    batch_failures: dict[int, set[str]]  # every test or source that failed, per batch
    data_tests: set[str]  # every data test of the project
    seconds: float
    isolated: bool = False
    kept_rules: tuple[tuple[str, str], ...] = KEPT_WITHOUT_FAULT

    @property
    def exercised(self) -> set[str]:
        return set().union(*self.batch_failures.values()) if self.batch_failures else set()

    @property
    def kept(self) -> dict[str, str]:
        """Data tests no fault made fail, kept on purpose: name -> the reason of the first rule matching."""
        out = {}
        for name in sorted(self.data_tests - self.exercised):
            for pattern, reason in self.kept_rules:
                if re.search(pattern, name):
                    out[name] = reason
                    break
        return out

    @property
    def never_failing(self) -> list[str]:
        """Data tests that no fault made fail and that no rule keeps on purpose."""
        return sorted(self.data_tests - self.exercised - set(self.kept))

    @property
    def uncaught(self) -> list[FaultResult]:
        return [r for r in self.results if not r.caught]

    def score(self) -> dict[str, tuple[int, int]]:
        """(caught, planted) per fault class, in the catalogue's order of classes."""
        out: dict[str, tuple[int, int]] = {}
        for cls in CLASSES:
            mine = [r for r in self.results if r.fault.fault_class == cls]
            if mine:
                out[cls] = (sum(r.caught for r in mine), len(mine))
        return out

    @property
    def ok(self) -> bool:
        return not self.uncaught and not self.never_failing

    def render(self) -> str:
        lines = [f"{'fault':<38} {'class':<13} caught  tests that fail"]
        for r in self.results:
            shown = ", ".join(r.failed) + (f" (NOT: {', '.join(r.missing)})" if r.missing else "")
            if self.isolated:
                others = sorted(self.batch_failures.get(r.batch, set()) - set(r.failed))
                shown += f" + {len(others)} more" if others else ""
            lines.append(
                f"{r.fault.name:<38} {r.fault.fault_class:<13} {'yes' if r.caught else 'NO':<7} {shown}"
            )
        lines.append("")
        lines.append("score per class: " + ", ".join(f"{c} {a}/{b}" for c, (a, b) in self.score().items()))
        total = len(self.results)
        lines.append(f"faults caught: {total - len(self.uncaught)}/{total} ({self.seconds:.0f}s)")
        kept = self.kept
        lines.append(
            f"data tests: {len(self.data_tests)}, failed on a fault: {len(self.data_tests & self.exercised)}, "
            f"kept without one: {len(kept)}, never failing: {len(self.never_failing)}"
        )
        for pattern, reason in self.kept_rules:
            count = sum(1 for r in kept.values() if r == reason)
            if count:
                lines.append(f"  kept ({count}) {pattern}: {reason}")
        for name in self.never_failing:
            lines.append(f"  never fails: {name}")
        return "\n".join(lines)


def markdown_table(report: CatalogueReport) -> str:
    """The catalogue as a Markdown table (fault, class, what it plants, tests that fail), for the docs."""
    rows = ["| fault | class | what it plants | caught by |", "|---|---|---|---|"]
    for r in report.results:
        caught = ", ".join(f"`{t}`" for t in r.failed) or "**not caught**"
        rows.append(f"| `{r.fault.name}` | {r.fault.fault_class} | {r.fault.description} | {caught} |")
    return "\n".join(rows)


def plan_batches(faults: Sequence[Fault], isolated: bool = False) -> list[list[Fault]]:
    """Group faults that can be planted together: same kind of check, no expected test in common
    (so that each expected failure has one candidate cause), solo faults alone."""
    if isolated:
        return [[f] for f in faults]
    batches: list[list[Fault]] = []
    for fault in faults:
        for batch in batches:
            if (
                not fault.solo
                and not any(f.solo for f in batch)
                and batch[0].check == fault.check
                and not set(fault.expect) & {t for f in batch for t in f.expect}
            ):
                batch.append(fault)
                break
        else:
            batches.append([fault])
    return batches


def plant(warehouse: Path, faults: Iterable[Fault]) -> None:
    """Run each fault's SQL on the DuckDB file `warehouse` (`{n}`: the fault's catalogue number)."""
    import duckdb

    numbers = {f.name: i for i, f in enumerate(CATALOGUE)}
    con = duckdb.connect(str(warehouse))
    try:
        for fault in faults:
            n = numbers.get(fault.name, 0)
            for statement in fault.sql:
                try:
                    changed = con.execute(statement.format(n=n)).fetchone()
                except duckdb.Error as exc:
                    raise FaultRunError(f"fault {fault.name}: its SQL failed on {warehouse}: {exc}") from None
                if not changed or not changed[0]:
                    # a fault that plants nothing would be scored as missed for the wrong reason
                    raise FaultRunError(f"fault {fault.name}: {statement.format(n=n)[:200]} changed no row")
    finally:
        con.close()


def _source(table: str) -> str:
    """A fault's table as a dbt source: `raw.` unless it names its source."""
    return table if "." in table else f"raw.{table}"


def _node_name(unique_id: str) -> str:
    """`test.data_gcp.unique_x.abc123` -> `unique_x`; `source.data_gcp.raw.t` -> `source:raw.t`."""
    parts = unique_id.split(".")
    if parts[0] == "source":
        return f"source:{'.'.join(parts[2:])}"
    return parts[2] if len(parts) > 2 else unique_id


def data_test_names(target_path: Path) -> set[str]:
    """Every data test (generic and singular, not unit tests) of the manifest dbt last wrote there."""
    manifest = json.loads((target_path / "manifest.json").read_text())
    return {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "test"}


def _run_batch(batch: list[Fault], data_dir: Path, target_path: Path) -> tuple[set[str], str]:
    """Failed tests (or sources) after planting `batch` in `data_dir`'s warehouse; and a note."""
    from data_gcp import dbt_runner

    settings = Settings(env="local", data_dir=data_dir)
    tables = sorted({t for f in batch for t in f.tables})
    check = batch[0].check
    common = {"target": "ci", "settings": settings, "target_path": target_path, "check": False}
    if check == "freshness":
        result = dbt_runner.source_freshness(select=[f"source:{_source(t)}" for t in tables], **common)
        return {_node_name(u) for u, s in result.statuses.items() if s in ("error", "runtime error")}, ""
    if check == "source_tests":
        select = [f"source:{_source(t)}" for t in tables]
        built = None
    else:
        # `dbt run` then `dbt test`, not `dbt build`: build skips what a failing test feeds, which
        # would hide the later tests' catches; a full refresh, so that the incremental models take
        # in a fault planted on any day, not only those of their look-back
        select = [f"source:{_source(t)}+" for t in tables]
        built = dbt_runner.run(select=select, full_refresh=True, **common)
    result = dbt_runner.test(select=select, exclude=["test_type:unit"], **common)
    failed = {_node_name(u) for u in result.failed}
    if built is not None and built.failed:
        # a model that no longer builds leaves its tests on stale tables: say so
        return failed, f"models in error: {', '.join(built.failed)}"
    return failed, ""


def run_catalogue(
    base: Path,
    work_dir: Path,
    target_path: Path,
    faults: Sequence[Fault] = CATALOGUE,
    isolated: bool = False,
    on_batch: object = None,
) -> CatalogueReport:
    """Plant `faults` batch by batch in copies of `base`/warehouse.duckdb (built by `prepare_base`)
    under `work_dir`, and score them. `target_path` is dbt's target folder (kept between batches,
    so that dbt parses the project once)."""
    source = base / WAREHOUSE_FILE
    if not source.is_file():
        raise FaultRunError(f"no warehouse at {source}: build one first (data_gcp.dbt_faults.prepare_base)")
    started = time.perf_counter()
    results: list[FaultResult] = []
    batch_failures: dict[int, set[str]] = {}
    for i, batch in enumerate(plan_batches(faults, isolated)):
        # a folder per batch: DuckDB keeps a database open per path in a process (dbt's adapter holds
        # one), so a copy at the same path would be planted in the previous batch's database
        data_dir = work_dir / f"batch_{i:02d}"
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        shutil.copyfile(source, data_dir / WAREHOUSE_FILE)
        wal = source.with_name(source.name + ".wal")  # changes not yet checkpointed into the file
        if wal.is_file():
            shutil.copyfile(wal, data_dir / wal.name)
        plant(data_dir / WAREHOUSE_FILE, batch)
        failed, note = _run_batch(batch, data_dir, target_path)
        batch_failures[i] = failed
        for fault in batch:
            results.append(
                FaultResult(
                    fault=fault,
                    batch=i,
                    failed=tuple(t for t in fault.expect if t in failed),
                    missing=tuple(t for t in fault.expect if t not in failed),
                )
            )
        log.info(
            "fault batch %d (%s): %d failing%s",
            i,
            ", ".join(f.name for f in batch),
            len(failed),
            f"; {note}" if note else "",
        )
        if callable(on_batch):
            on_batch(i, batch, failed, note)
        shutil.rmtree(data_dir, ignore_errors=True)
    order = {f.name: k for k, f in enumerate(faults)}
    results.sort(key=lambda r: order[r.fault.name])
    return CatalogueReport(
        results=results,
        batch_failures=batch_failures,
        data_tests=data_test_names(target_path),
        seconds=time.perf_counter() - started,
        isolated=isolated,
    )


def load_raw_layer(settings: Settings, scale: float = BASE_SCALE, seed: int = 42) -> None:
    """The raw layer as the daily chain fills it: the sandbox app database imported, the backend
    referentials and seed files, and the daily connectors whose raw tables declare a freshness."""
    from data_gcp.applicative_import import import_applicative
    from data_gcp.etl_core import run_connector
    from data_gcp.sandbox import generate
    from data_gcp.vendor_servers import start_all

    generate(scale=scale, seed=seed, settings=settings)  # also the seed files of the bucket
    import_applicative(settings=settings)
    systems = ["api_referentials", "appsflyer", "app_downloads"]
    with start_all(systems, settings=settings, apply_env=True):
        for system in systems:
            run_connector(system, settings=settings)
    run_connector("seed_files", settings=settings)


def prepare_base(data_dir: Path, target_path: Path, scale: float = BASE_SCALE, seed: int = 42) -> None:
    """A fault-free warehouse in `data_dir`: the raw layer, then one `dbt build` that must pass (a
    test failing before any fault is planted would be counted as a catch)."""
    from data_gcp import dbt_runner
    from data_gcp.config import temporary_env

    settings = Settings(env="local", data_dir=data_dir)
    with temporary_env({"DATA_GCP_ENV": "local", "DATA_GCP_DATA_DIR": str(data_dir)}):
        load_raw_layer(settings, scale=scale, seed=seed)
    result = dbt_runner.build(target="ci", settings=settings, target_path=target_path, check=False)
    if not result.success:
        raise FaultRunError(
            "the warehouse fails its tests before any fault is planted:\n  " + "\n  ".join(result.failed)
        )
