"""The shared rules on bad records, partial answers and mass actions (`etl_core.guards`)."""

from __future__ import annotations

import datetime as dt

import pytest

from data_gcp.etl_core import (
    CONNECTOR_MODULES,
    BadRecords,
    BadRecordsError,
    Column,
    Connector,
    MassActionError,
    TableSpec,
    guard_mass_action,
    run_connector,
)
from data_gcp.warehouse import get_warehouse

DAYS = TableSpec(
    name="guard_days",
    object="days",
    columns=(Column("day", "date"), Column("app"), Column("n", "int")),
    write="window",
    partition="day",
    scope=("app",),
)
PLAIN = TableSpec(
    name="guard_plain",
    object="plain",
    columns=(Column("day", "date"), Column("n", "int")),
    write="window",
    partition="day",
)
# (app, day) -> rows the vendor has; PARTIAL: (app, day) -> why the answer is partial
ROWS: dict[tuple[str, dt.date], int] = {}
PARTIAL: dict[tuple[str, dt.date], str] = {}


class GuardConnector(Connector):
    name = "guardtoy"
    description = "toy"
    schedule = "0 0 * * *"
    default_base_url = "http://127.0.0.1:9"
    tables = (DAYS, PLAIN)

    def extract(self, ctx):
        for app in ("ios", "android"):
            for day in ctx.window.days():
                n = ROWS.get((app, day))
                if n is not None:  # a capped answer still yields its (fewer) rows
                    yield DAYS.name, DAYS.to_arrow([{"day": day, "app": app, "n": i} for i in range(n)])
                if (app, day) in PARTIAL:
                    ctx.keep(DAYS.name, [day], PARTIAL[(app, day)], app=app)
            ctx.covers(DAYS.name, ctx.window.days(), app=app)
        for day in ctx.window.days():  # unscoped, default coverage: the window
            n = ROWS.get(("plain", day))
            if n is not None:
                yield PLAIN.name, PLAIN.to_arrow([{"day": day, "n": i} for i in range(n)])
            if ("plain", day) in PARTIAL:
                ctx.keep(PLAIN.name, day, PARTIAL[("plain", day)])


CONNECTOR = GuardConnector


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(CONNECTOR_MODULES, "guardtoy", __name__)
    ROWS.clear()
    PARTIAL.clear()
    yield
    ROWS.clear()
    PARTIAL.clear()


def _counts(settings, table: str) -> dict:
    wh = get_warehouse(settings)
    cols = "app, day" if table == "guard_days" else "day"
    rows = wh.query(f"SELECT {cols}, count(*) AS n FROM raw.{table} GROUP BY ALL").to_pylist()
    return {tuple(v for k, v in r.items() if k != "n"): r["n"] for r in rows}


def test_a_not_yet_or_capped_answer_keeps_the_loaded_day(settings, toy, caplog):
    d1, d2 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)
    ROWS.update({("ios", d1): 5, ("ios", d2): 4, ("android", d1): 3, ("plain", d1): 6})
    run_connector("guardtoy", d1, d2, settings=settings)
    # re-run: iOS d1 "not available yet" (no row), Android d1 capped (fewer rows), plain d1 not yet
    ROWS.update({("android", d1): 1})
    del ROWS[("ios", d1)], ROWS[("plain", d1)]
    PARTIAL.update({("ios", d1): "not available yet", ("android", d1): "capped", ("plain", d1): "not yet"})
    with caplog.at_level("WARNING"):
        run_connector("guardtoy", d1, d2, settings=settings)
    assert _counts(settings, "guard_days") == {("ios", d1): 5, ("ios", d2): 4, ("android", d1): 3}
    assert _counts(settings, "guard_plain") == {(d1,): 6}
    assert "kept as loaded" in caplog.text and "capped" in caplog.text
    # once the answer is whole again, the day is replaced (and a day now empty is cleared)
    PARTIAL.clear()
    ROWS.update({("android", d1): 2})
    run_connector("guardtoy", d1, d2, settings=settings)
    assert _counts(settings, "guard_days") == {("ios", d2): 4, ("android", d1): 2}
    assert _counts(settings, "guard_plain") == {}


def test_one_bad_record_is_skipped_many_are_a_changed_shape(caplog):
    bad = BadRecords("toy", "items")
    with caplog.at_level("WARNING"):
        bad.skip("item 7", "no field 'x'")
        bad.check(total=40)  # one in 40: skipped, the run goes on
    assert "item 7" in caplog.text and "1 of 40 items skipped" in caplog.text
    bad.skip("item 8", "no field 'x'")
    bad.skip("item 9", "no field 'x'")
    bad.check(total=40)
    for n in range(10, 14):
        bad.skip(f"item {n}", "no field 'x'")
    with pytest.raises(BadRecordsError, match=r"7 of 40 items are unreadable \(item 7: no field 'x'"):
        bad.check(total=40)
    one_of_one = BadRecords("toy", "items", error=lambda m: ValueError(m))
    one_of_one.skip("only", "bad")
    one_of_one.check(total=1)  # a single bad record is never "the shape changed"


def test_a_plan_acting_on_most_of_what_exists_is_refused():
    guard_mass_action("toy", "archive", planned=6, population=131)
    guard_mass_action("toy", "archive", planned=2, population=2)  # small plans act
    with pytest.raises(MassActionError, match="refusing to archive 10 of 12"):
        guard_mass_action("toy", "archive", planned=10, population=12)
    with pytest.raises(MassActionError, match="refusing to flag 30 of 0"):
        guard_mass_action("toy", "flag", planned=30, population=0)
