"""Export files: one dated Parquet per table in the bucket, personal ids pseudonymised consistently."""

from __future__ import annotations

import datetime as dt
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_gcp.config import Settings
from data_gcp.exports import EXPORTS, ExportError, export_family, export_key, pseudonymise
from data_gcp.storage import get_storage
from data_gcp.warehouse import get_warehouse

DAY = dt.date(2026, 11, 30)


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.delenv("EXPORT_PSEUDONYM_KEY", raising=False)
    return Settings(env="local", data_dir=tmp_path / "data")


def _load_exports(settings: Settings, skip: str | None = None) -> None:
    wh = get_warehouse(settings)
    users = pa.table({"user_id": ["1", "2", "3"], "user_department_code": ["75", "13", None]})
    deposits = pa.table({"deposit_id": ["10", "11"], "user_id": ["1", None]})
    for table in EXPORTS["ministry"].tables:
        if table == skip:
            continue
        data = {"user": users, "deposit": deposits}.get(table, pa.table({f"{table}_id": ["7"]}))
        wh.load(f"export.export__{table}", data, mode="replace")


def _read(settings: Settings, table: str) -> pa.Table:
    raw = get_storage(settings).get_bytes(export_key("ministry", DAY, table))
    return pq.read_table(io.BytesIO(raw))


def test_every_table_lands_as_a_dated_parquet_with_ids_pseudonymised(settings) -> None:
    _load_exports(settings)
    written = export_family("ministry", DAY, settings=settings)
    assert [f.table for f in written] == list(EXPORTS["ministry"].tables)
    assert all(f.key.startswith("exports/ministry/20261130/") for f in written)
    users, deposits = _read(settings, "user"), _read(settings, "deposit")
    pseudo = users.column("user_id").to_pylist()
    assert users.num_rows == 3 and len(set(pseudo)) == 3
    assert not {"1", "2", "3"} & set(pseudo)
    assert all(len(p) == 64 for p in pseudo)
    # the same user has the same pseudonym in every file; a null id stays null
    assert deposits.column("user_id").to_pylist() == [pseudo[0], None]
    assert users.column("user_department_code").to_pylist() == ["75", "13", None]
    # non-personal ids are left as they are
    assert _read(settings, "venue").column("venue_id").to_pylist() == ["7"]


def test_pseudonyms_are_stable_between_runs_and_depend_on_the_key(settings) -> None:
    _load_exports(settings)
    export_family("ministry", DAY, settings=settings)
    first = _read(settings, "user").column("user_id").to_pylist()
    export_family("ministry", DAY, settings=settings)
    assert _read(settings, "user").column("user_id").to_pylist() == first
    values = pa.array(["1", None])
    assert pseudonymise(values, b"a").to_pylist()[1] is None
    assert pseudonymise(values, b"a").to_pylist()[0] != pseudonymise(values, b"b").to_pylist()[0]


def test_the_secret_key_is_used_when_set(settings, monkeypatch) -> None:
    monkeypatch.setenv("EXPORT_PSEUDONYM_KEY", "k" * 32)
    _load_exports(settings)
    export_family("ministry", DAY, settings=settings)
    got = _read(settings, "user").column("user_id").to_pylist()[0]
    assert got == pseudonymise(pa.array(["1"]), b"k" * 32).to_pylist()[0]


def test_a_missing_export_model_or_family_fails_with_what_to_do(settings) -> None:
    _load_exports(settings, skip="stock")
    with pytest.raises(ExportError, match=r"export.export__stock does not exist.*dbt build"):
        export_family("ministry", DAY, settings=settings)
    with pytest.raises(ExportError, match="unknown export family 'nope'"):
        export_family("nope", DAY, settings=settings)
