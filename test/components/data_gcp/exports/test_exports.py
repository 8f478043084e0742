"""Export files: one dated Parquet per table in the bucket, every personal id pseudonymised with one
keyed scheme, a short key refused, a table that singles out fewer than k people refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from data_gcp.config import Settings
from data_gcp.exports import (
    EXPORTS,
    MIN_KEY_BYTES,
    ExportError,
    QuasiIdentifiers,
    export_family,
    export_key,
    pseudonymise,
    smallest_class,
)
from data_gcp.storage import get_storage
from data_gcp.warehouse import get_warehouse

DAY = dt.date(2026, 11, 30)
KEY = b"k" * MIN_KEY_BYTES
EXPORT_YML = Path(__file__).resolve().parents[4] / "dbt/models/export/_export__models.yml"


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.delenv("EXPORT_PSEUDONYM_KEY", raising=False)
    return Settings(env="local", data_dir=tmp_path / "data")


def _users(n: int = 6, department: str = "75") -> pa.Table:
    """`n` users sharing every quasi-identifier (one class of n people)."""
    qi = EXPORTS["ministry"].quasi_identifiers["user"].columns
    data = {"user_id": [str(i) for i in range(1, n + 1)]}
    data |= {c: [None] * n for c in qi}
    data["user_department_code"] = [department] * n
    return pa.table(data)


def _load_exports(settings: Settings, skip: str | None = None, users: pa.Table | None = None) -> None:
    wh = get_warehouse(settings)
    users = users if users is not None else _users()
    deposit_qi = EXPORTS["ministry"].quasi_identifiers["deposit"].columns
    deposits = pa.table(
        {"deposit_id": [str(10 + i) for i in range(5)] + ["1"], "user_id": ["1", "2", "3", "4", "5", None]}
        | {c: [None] * 6 for c in deposit_qi}
    )
    bookings = pa.table({"booking_id": ["1", "2"], "user_id": ["1", "2"], "deposit_id": ["10", "11"]})
    favorites = pa.table({"favorite_id": ["1", "3"], "user_id": ["1", "6"], "offer_id": ["7", "7"]})
    address_qi = EXPORTS["ministry"].quasi_identifiers["user_address"].columns
    user_address = pa.table({"user_id": ["1", "2", "3", "4", "5"]} | {c: ["x"] * 5 for c in address_qi})
    for table in EXPORTS["ministry"].tables:
        if table == skip:
            continue
        data = {
            "user": users,
            "deposit": deposits,
            "booking": bookings,
            "favorite": favorites,
            "user_address": user_address,
        }.get(table, pa.table({f"{table}_id": ["7"]}))
        wh.load(f"export.export__{table}", data, mode="replace")


def _read(settings: Settings, table: str) -> pa.Table:
    raw = get_storage(settings).get_bytes(export_key("ministry", DAY, table))
    return pq.read_table(io.BytesIO(raw))


def test_every_table_lands_as_a_dated_parquet_with_every_personal_id_pseudonymised(settings) -> None:
    _load_exports(settings)
    written = export_family("ministry", DAY, settings=settings)
    assert [f.table for f in written] == list(EXPORTS["ministry"].tables)
    assert all(f.key.startswith("exports/ministry/20261130/") for f in written)
    users, deposits, bookings = (
        _read(settings, "user"),
        _read(settings, "deposit"),
        _read(settings, "booking"),
    )
    pseudo = users.column("user_id").to_pylist()
    assert users.num_rows == 6 and len(set(pseudo)) == 6
    assert all(len(p) == 64 for p in pseudo)
    # no id that joins back to a person leaves in clear: user, deposit and booking ids
    clear = {"1", "2", "3", "4", "5", "6", "10", "11", "12", "13", "14"}
    favorites, user_address = _read(settings, "favorite"), _read(settings, "user_address")
    for table, columns in (
        (users, ["user_id"]),
        (deposits, ["user_id", "deposit_id"]),
        (bookings, ["booking_id", "user_id", "deposit_id"]),
        (favorites, ["favorite_id", "user_id"]),
        (user_address, ["user_id"]),
    ):
        for column in columns:
            assert not clear & set(table.column(column).to_pylist()), column
    # the same user, deposit has the same pseudonym in every file; a null id stays null
    assert deposits.column("user_id").to_pylist() == pseudo[:5] + [None]
    assert bookings.column("user_id").to_pylist() == pseudo[:2]
    assert favorites.column("user_id").to_pylist() == [pseudo[0], pseudo[5]]
    assert user_address.column("user_id").to_pylist() == pseudo[:5]
    assert favorites.column("offer_id").to_pylist() == ["7", "7"]  # not a person's id: in clear
    assert bookings.column("deposit_id").to_pylist() == deposits.column("deposit_id").to_pylist()[:2]
    # one scheme, but kinds apart: user "1", deposit "1" and booking "1" get three pseudonyms
    ones = {
        pseudo[0],
        deposits.column("deposit_id").to_pylist()[5],
        bookings.column("booking_id").to_pylist()[0],
    }
    ones.add(favorites.column("favorite_id").to_pylist()[0])
    assert len(ones) == 4
    assert users.column("user_department_code").to_pylist() == ["75"] * 6
    # non-personal ids are left as they are
    assert _read(settings, "venue").column("venue_id").to_pylist() == ["7"]


def test_pseudonyms_are_stable_between_runs_and_depend_on_the_key(settings) -> None:
    _load_exports(settings)
    export_family("ministry", DAY, settings=settings)
    first = _read(settings, "user").column("user_id").to_pylist()
    export_family("ministry", DAY, settings=settings)
    assert _read(settings, "user").column("user_id").to_pylist() == first
    values = pa.array(["1", None])
    assert pseudonymise(values, KEY, "user").to_pylist()[1] is None
    other = b"o" * MIN_KEY_BYTES
    assert (
        pseudonymise(values, KEY, "user").to_pylist()[0] != pseudonymise(values, other, "user").to_pylist()[0]
    )


def test_the_secret_key_is_used_when_set(settings, monkeypatch) -> None:
    monkeypatch.setenv("EXPORT_PSEUDONYM_KEY", KEY.decode())
    _load_exports(settings)
    export_family("ministry", DAY, settings=settings)
    got = _read(settings, "user").column("user_id").to_pylist()[0]
    assert got == hmac.new(KEY, b"user:1", hashlib.sha256).hexdigest()


@pytest.mark.parametrize("length", [1, 16, MIN_KEY_BYTES - 1])
def test_a_key_under_32_bytes_is_refused_and_never_shown(settings, monkeypatch, length) -> None:
    secret = "s" * (length - 1) + "Z"
    monkeypatch.setenv("EXPORT_PSEUDONYM_KEY", secret)
    _load_exports(settings)
    with pytest.raises(ExportError, match=rf"has {length} bytes: at least 32 are required") as err:
        export_family("ministry", DAY, settings=settings)
    assert secret not in str(err.value)
    assert not get_storage(settings).exists(export_key("ministry", DAY, "user"))
    with pytest.raises(ExportError, match="at least 32"):
        pseudonymise(pa.array(["1"]), secret.encode(), "user")


def test_a_table_that_singles_out_fewer_than_k_people_is_refused(settings) -> None:
    # 6 users, one of them alone in their department: the user table is refused, nothing written
    users = pa.concat_tables(
        [_users(5), _users(1, department="13").set_column(0, "user_id", pa.array(["6"]))]
    )
    _load_exports(settings, users=users)
    with pytest.raises(ExportError, match=r"export.export__user is not 5-anonymous: 1 people share .*'13'"):
        export_family("ministry", DAY, settings=settings)
    assert not get_storage(settings).exists(export_key("ministry", DAY, "user"))


def test_smallest_class_counts_distinct_people_with_nulls_as_a_value() -> None:
    qi = QuasiIdentifiers(person="p", columns=("a", "b"))
    # (x, 1): people 1, 2, 5 (1 twice); (null, null): people 3, 4
    data = pa.table(
        {
            "p": ["1", "1", "2", "5", "3", "4"],
            "a": ["x", "x", "x", "x", None, None],
            "b": [1, 1, 1, 1, None, None],
        }
    )
    assert smallest_class(data, qi) == (2, {"a": None, "b": None})
    assert smallest_class(data.slice(0, 3), qi) == (2, {"a": "x", "b": 1})
    assert smallest_class(data.slice(0, 0), qi) == (0, None)


def test_the_dbt_models_declare_what_the_export_enforces() -> None:
    """The pseudonymised columns and k-anonymity test of each export model are the family's."""
    spec = EXPORTS["ministry"]
    models = {m["name"]: m for m in yaml.safe_load(EXPORT_YML.read_text())["models"]}
    for table in spec.tables:
        model = models[f"export__{table}"]
        columns = {c["name"] for c in model["columns"]}
        declared = set(model["config"]["meta"].get("pseudonymised_columns", []))
        assert declared == spec.pseudonymised & columns, table
        tests = [t["k_anonymous"]["arguments"] for t in model.get("data_tests", []) if "k_anonymous" in t]
        qi = spec.quasi_identifiers.get(table)
        if qi is None:
            assert not tests, table
            continue
        assert tests == [{"columns": list(qi.columns), "person": qi.person, "k": spec.k}], table


def test_a_missing_export_model_or_family_fails_with_what_to_do(settings) -> None:
    _load_exports(settings, skip="stock")
    with pytest.raises(ExportError, match=r"export.export__stock does not exist.*dbt build"):
        export_family("ministry", DAY, settings=settings)
    with pytest.raises(ExportError, match="unknown export family 'nope'"):
        export_family("nope", DAY, settings=settings)


def test_a_user_location_that_singles_out_fewer_than_k_people_is_refused(settings) -> None:
    address_qi = EXPORTS["ministry"].quasi_identifiers["user_address"].columns
    located = pa.table(
        {"user_id": ["1", "2", "3", "4", "5", "6"]} | {c: ["x"] * 5 + ["only-one"] for c in address_qi}
    )
    _load_exports(settings)
    get_warehouse(settings).load("export.export__user_address", located, mode="replace")
    with pytest.raises(ExportError, match=r"export__user_address is not 5-anonymous: 1 people share"):
        export_family("ministry", DAY, settings=settings)
    assert not get_storage(settings).exists(export_key("ministry", DAY, "user_address"))
