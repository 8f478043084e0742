"""Seed files from the import bucket: newest file per table, declared schemas, independent tables."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_gcp.etl_core import PartialRunError, run_connector
from data_gcp.sandbox import write_seed_files
from data_gcp.seed_files import SEED_TABLES, SeedFileError, newest_file, read_seed_file
from data_gcp.storage import get_storage
from data_gcp.warehouse import get_warehouse

REGIONS_HEADER = "department_code,department_name,region_code,region_name\n"


@pytest.fixture
def bucket(settings):
    write_seed_files(settings)
    return get_storage(settings, bucket=f"de-bigquery-data-import-{settings.env.value}")


def _rows(settings, table: str, order: str) -> list[dict]:
    return get_warehouse(settings).query(f"SELECT * FROM seed.{table} ORDER BY {order}").to_pylist()


def test_newest_file_by_name_date_wins_and_every_table_loads(settings, bucket):
    # an older file uploaded later, a newer one, and a file that does not follow the pattern
    bucket.put_bytes(
        "bigquery_imports/seed/region_department/region_department_20251201.csv",
        (REGIONS_HEADER + "75,Paris,11,Old name\n").encode(),
    )
    bucket.put_bytes(
        "bigquery_imports/seed/region_department/region_department_20260201.csv",
        (REGIONS_HEADER + "75,Paris,11,Île-de-France\n974,La Réunion,04,La Réunion\n").encode(),
    )
    bucket.put_bytes("bigquery_imports/seed/region_department/notes.txt", b"ignore me")
    result = run_connector("seed_files", settings=settings)
    assert result.rows["region_department"] == 2
    assert _rows(settings, "region_department", "department_code") == [
        {
            "department_code": "75",
            "department_name": "Paris",
            "region_code": "11",
            "region_name": "Île-de-France",
        },
        {
            "department_code": "974",
            "department_name": "La Réunion",
            "region_code": "04",
            "region_name": "La Réunion",
        },
    ]
    qpv = _rows(settings, "qpv", "qpv_code")
    assert len(qpv) >= 10 and all(isinstance(r["population"], int) for r in qpv)
    assert {r["zrr_status"] for r in _rows(settings, "zrr", "commune_code")} == {"C", "P"}  # ';' file
    assert len(_rows(settings, "macro_rayons", "rayon")) >= 10  # the parquet file
    # a re-run replaces: same rows
    run_connector("seed_files", settings=settings)
    assert len(_rows(settings, "qpv", "qpv_code")) == len(qpv)


def test_malformed_file_fails_its_table_only_naming_file_and_line(settings, bucket):
    run_connector("seed_files", settings=settings)
    before = _rows(settings, "qpv", "qpv_code")
    bucket.put_bytes(
        "bigquery_imports/seed/qpv/qpv_20270101.csv",
        (
            b"qpv_code,qpv_name,commune_code,commune_name,postal_code,department_code,population\n"
            b"QN1,A,75111,Paris,75011,75,100\n"
            b"QN2,B,75111,Paris,75011,75,many\n"
        ),
    )
    # meanwhile another table got a new file: it must still load
    bucket.put_bytes(
        "bigquery_imports/seed/region_department/region_department_20270101.csv",
        (REGIONS_HEADER + "75,Paris,11,Île-de-France\n").encode(),
    )
    with pytest.raises(PartialRunError) as info:
        run_connector("seed_files", settings=settings)
    message = str(info.value)
    assert "qpv_20270101.csv, line 3" in message and "'population'" in message and "'many'" in message
    assert _rows(settings, "qpv", "qpv_code") == before  # untouched
    assert len(_rows(settings, "region_department", "department_code")) == 1  # loaded


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"department_code,department_name,region\n75,Paris,11\n", "line 1: the header does not match"),
        (REGIONS_HEADER.encode() + b"75,Paris,11\n", "line 2: 3 fields, expected 4"),
        (REGIONS_HEADER.encode() + b"75,Paris,11,IDF\n75,Paris,11,IDF\n", "line 3: duplicate key"),
        (REGIONS_HEADER.encode() + b"75,,11,IDF\n", "line 2: column 'department_name' is empty but required"),
        (REGIONS_HEADER.encode(), "no data rows"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_csv_errors_name_the_file_and_the_line(content, expected):
    table = SEED_TABLES["region_department"]
    with pytest.raises(SeedFileError, match=expected) as info:
        read_seed_file(
            content, "x/region_department_20260101.csv", table, "gs://b/x/region_department_20260101.csv"
        )
    assert "gs://b/x/region_department_20260101.csv" in str(info.value)


def test_parquet_with_wrong_type_or_columns_is_refused():
    table = SEED_TABLES["qpv"]
    good = {c.name: ["x"] for c in table.spec.columns} | {"population": [3]}
    for bad, expected in (
        (good | {"population": ["lots"]}, "wrong type"),
        ({k: v for k, v in good.items() if k != "qpv_name"}, "missing \\['qpv_name'\\]"),
    ):
        buf = io.BytesIO()
        pq.write_table(pa.table(bad), buf)
        with pytest.raises(SeedFileError, match=expected):
            read_seed_file(buf.getvalue(), "qpv_20260101.parquet", table, "qpv_20260101.parquet")


def test_a_table_without_any_file_fails_alone(settings, bucket):
    bucket.delete(next(o.key for o in bucket.list("bigquery_imports/seed/zrr/")))
    with pytest.raises(PartialRunError, match="seed.zrr: no file zrr_YYYYMMDD"):
        run_connector("seed_files", settings=settings)
    assert _rows(settings, "qpv", "qpv_code")


def test_newest_file_ignores_bad_names_and_prefers_parquet_on_the_same_day():
    table = SEED_TABLES["qpv"]
    keys = ["p/qpv_20260101.csv", "p/qpv_20260101.parquet", "p/qpv_2026.csv", "p/qpv_20261399.csv"]
    assert newest_file(keys, table)[0] == "p/qpv_20260101.parquet"
    assert newest_file(["p/other_20270101.csv"], table) is None


def test_specs_declare_the_seed_tables():
    from data_gcp.etl_core import get_connector

    names = {t.qualified_name for t in get_connector("seed_files").tables}
    assert {"seed.region_department", "seed.qpv", "seed.zrr", "seed.macro_rayons"} <= names


def test_cloud_storage_errors_are_retried_or_fail_their_table_only(settings, bucket, monkeypatch):
    """The cloud path (GCSStorage): a checksum mismatch or a 503 is read again; a 403 fails that
    table alone, as a SourceError naming seed_files and the object, never the SDK's exception."""
    from google.api_core.exceptions import Forbidden, ServiceUnavailable
    from google.resumable_media.common import DataCorruption

    import data_gcp.storage as storage_mod
    from data_gcp.http_client import FakeClock
    from data_gcp.storage import GCSStorage
    from data_gcp.vendor_servers import FakeGcsClient

    client = FakeGcsClient(
        bucket, errors=[ServiceUnavailable("busy"), DataCorruption(None, "Checksum mismatch")]
    )
    gcs = GCSStorage("de-bigquery-data-import-local", client=client)
    monkeypatch.setattr(storage_mod, "get_storage", lambda settings=None, bucket=None: gcs)
    clock = FakeClock()
    result = run_connector("seed_files", settings=settings, clock=clock)
    assert all(n > 0 for n in result.rows.values()) and len(clock.sleeps) == 2  # both read again
    before = _rows(settings, "qpv", "qpv_code")
    client.errors.extend([Forbidden("caller lacks storage.objects.list")])
    with pytest.raises(PartialRunError) as err:
        run_connector("seed_files", settings=settings, clock=clock)
    assert "seed_files: list gs://de-bigquery-data-import-local/bigquery_imports/seed/" in str(err.value)
    assert "(HTTP 403)" in str(err.value)
    assert _rows(settings, "qpv", "qpv_code") == before
