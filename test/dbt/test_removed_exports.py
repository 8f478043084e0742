"""The ministry's `*_removed` files get rows from the sandbox: two nights, with the backend's deletions
(`sandbox advance`) between them, as the daily chain sees them.

Night 1: `sandbox generate` (default scale), import, dbt snapshots and the three removed-row exports
(empty: nothing deleted yet). Then `sandbox advance` deletes rejected offers, abandoned venues and
offerers; night 2 (incremental import) closes their snapshot versions and the exports list them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from data_gcp import dbt_runner
from data_gcp.applicative_import import import_applicative
from data_gcp.config import Settings
from data_gcp.sandbox import advance, generate
from data_gcp.warehouse import get_warehouse

SELECT = (
    "snapshot__offer snapshot__venue snapshot__offerer "
    "export__offer_removed export__venue_removed export__offerer_removed"
)
EXPORTS = {"offer": "offer_id", "venue": "venue_id", "offerer": "offerer_id"}


def _app_keys(settings: Settings) -> dict[str, set[str]]:
    con = sqlite3.connect(settings.local_data_dir / "sandbox" / "app.sqlite")
    try:
        return {t: {str(r[0]) for r in con.execute(f'SELECT {k} FROM "{t}"')} for t, k in EXPORTS.items()}
    finally:
        con.close()


def _exported(settings: Settings) -> dict[str, list[str]]:
    wh = get_warehouse(settings)
    return {
        t: wh.query(f"SELECT {k} FROM export.export__{t}_removed").column(k).to_pylist()
        for t, k in EXPORTS.items()
    }


def _night(settings: Settings, target_path: Path) -> None:
    import_applicative(settings=settings)
    result = dbt_runner.build(
        select=SELECT, target="ci", settings=settings, target_path=target_path, check=False
    )
    assert result.success, result.summary()


def test_the_removed_files_list_what_the_app_deleted_since_the_night_before(
    settings: Settings, dbt_target_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBT_TARGET_PATH", str(dbt_target_path))
    generate(settings=settings)  # the default scale, 0.01
    _night(settings, dbt_target_path)
    first = _app_keys(settings)
    assert _exported(settings) == {t: [] for t in EXPORTS}  # one night sees no deletion

    moved = advance(settings=settings)
    assert moved.removed.offers and moved.removed.venues and moved.removed.offerers
    _night(settings, dbt_target_path)
    now = _app_keys(settings)
    exported = _exported(settings)
    for table in EXPORTS:
        listed = exported[table]
        assert listed, f"export__{table}_removed has no rows"
        assert len(listed) == len(set(listed)), table
        # exactly the rows imported the first night and gone from the app database since
        assert set(listed) == first[table] - now[table], table
        assert not set(listed) & now[table], table
    assert set(exported["offer"]) == {str(i) for i in moved.removed.offers}
    assert set(exported["venue"]) == {str(i) for i in moved.removed.venues}
    # the raw layer follows the app database: an incrementally imported table loses its deleted rows
    wh = get_warehouse(settings)
    raw_offers = (
        wh.query("SELECT offer_id FROM raw.applicative_database_offer").column("offer_id").to_pylist()
    )
    assert {str(i) for i in raw_offers} == now["offer"]
