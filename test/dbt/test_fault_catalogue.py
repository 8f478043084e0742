"""The planted-fault catalogue on the session's built warehouse: every fault is caught by the tests
it names, and every data test fails on some fault (or is kept on purpose, with the reason)."""

from __future__ import annotations

import re

import pytest

from data_gcp.dbt_faults import CATALOGUE, KEPT_WITHOUT_FAULT, data_test_names, run_catalogue

pytestmark = pytest.mark.slow


def test_every_fault_is_caught_and_every_data_test_fails_on_one(built_project, tmp_path) -> None:
    assert built_project.raw_source == "sandbox+import"
    assert built_project.result.success  # a test failing before any fault would count as a catch
    report = run_catalogue(
        built_project.settings.local_data_dir, tmp_path / "batches", built_project.target_path
    )
    print(report.render())
    assert [r.fault.name for r in report.uncaught] == [], report.render()
    assert report.never_failing == [], report.render()
    # the catalogue's promise: at least 40 faults, every class scored, all caught
    assert len(report.results) == len(CATALOGUE) >= 40
    assert all(caught == planted for caught, planted in report.score().values())
    assert len(report.score()) == 8


def test_expected_tests_and_kept_tests_exist(built_project) -> None:
    """A renamed test would make a fault uncatchable by name, or keep a reason for nothing."""
    tests = data_test_names(built_project.target_path)
    named = {t for f in CATALOGUE if f.check != "freshness" for t in f.expect}
    assert sorted(named - tests) == []
    # every rule keeping tests without a fault still keeps some
    for pattern, _ in KEPT_WITHOUT_FAULT:
        assert any(re.search(pattern, t) for t in tests), pattern
