"""The catalogue's shape and the batch plan (the dbt runs are in test/dbt/test_fault_catalogue.py)."""

from __future__ import annotations

import duckdb
import pytest

from data_gcp.dbt_faults import CATALOGUE, CLASSES, Fault, FaultRunError, plan_batches, plant


def test_at_least_40_faults_covering_every_class_with_unique_names() -> None:
    assert len(CATALOGUE) >= 40
    assert {f.fault_class for f in CATALOGUE} == set(CLASSES)
    assert len({f.name for f in CATALOGUE}) == len(CATALOGUE)
    for fault in CATALOGUE:
        assert fault.expect and fault.sql and fault.tables, fault.name
        assert fault.check in ("build", "source_tests", "freshness"), fault.name


def _fault(name: str, expect: tuple[str, ...], check: str = "build", solo: bool = False) -> Fault:
    return Fault(name, "keys", name, ("t",), ("select 1",), expect, check=check, solo=solo)


def test_batches_never_share_an_expected_test_or_a_kind_of_check() -> None:
    a, b = _fault("a", ("t1",)), _fault("b", ("t2",))
    c = _fault("c", ("t1", "t3"))
    d = _fault("d", ("t4",), check="freshness")
    e = _fault("e", ("t5",), solo=True)
    assert plan_batches([a, b, c, d, e]) == [[a, b], [c], [d], [e]]
    assert plan_batches([a, b], isolated=True) == [[a], [b]]
    for batch in plan_batches(CATALOGUE):
        expected = [t for f in batch for t in f.expect]
        assert len(expected) == len(set(expected))
        assert len({f.check for f in batch}) == 1


def test_plant_runs_the_sql_with_the_fault_number_and_names_a_broken_fault(tmp_path) -> None:
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table t (n integer)")
    con.close()
    fault = Fault("x", "keys", "x", ("t",), ("insert into t values ({n} + 1)",), ("t1",))
    plant(path, [fault])
    con = duckdb.connect(str(path))
    assert con.execute("select n from t").fetchall() == [(1,)]  # not in the catalogue: number 0
    con.close()
    broken = Fault("broken", "keys", "x", ("t",), ("insert into nope values (1)",), ("t1",))
    with pytest.raises(FaultRunError, match="fault broken: its SQL failed"):
        plant(path, [broken])


def test_every_catalogued_fault_plants_on_the_raw_tables_it_names() -> None:
    for fault in CATALOGUE:
        for statement in fault.sql:
            for table in fault.tables:
                assert f".{table.split('.')[-1]}" in "".join(fault.sql), (fault.name, table)
            assert "{n}" in statement or "{" not in statement, fault.name
